"""The weekly LawBot update: fetch → ingest → train → evaluate → gate → publish.

Each task runs one step of `lawbot update` on the state root; the steps are idempotent (a marker
per finished step in the version being built), so a retried or re-run task does only what is
left. The gate is its own task: when the new version measures worse than the current one beyond
the tolerances in the gate config, it fails, the run fails, and publish never runs.

Paths come from Airflow Variables (lawbot_bin, lawbot_state_root, lawbot_data, lawbot_gate,
lawbot_notify, and the optional lawbot_markdown: a directory of legalize-kr / precedent-kr clones
that fetch pulls and imports; lawbot_models: what train builds; lawbot_generator: whose answers
evaluate scores) or, when a Variable is not set, from the environment of the worker (LAWBOT_BIN,
LAWBOT_STATE_ROOT, LAWBOT_DATA, LAWBOT_GATE, LAWBOT_NOTIFY, LAWBOT_MARKDOWN, LAWBOT_MODELS,
LAWBOT_GENERATOR). The servers' admin token is read by
lawbot itself from LAWBOT_ADMIN_TOKEN or LAWBOT_ADMIN_TOKEN_FILE; it never enters the DAG.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

# Resolved when a task runs: the Variable when set, else the worker's environment.
_SETTINGS = {
    "LAWBOT_BIN": "lawbot_bin",
    "LAWBOT_STATE_ROOT": "lawbot_state_root",
    "LAWBOT_DATA": "lawbot_data",
    "LAWBOT_GATE": "lawbot_gate",
    "LAWBOT_NOTIFY": "lawbot_notify",
    "LAWBOT_MARKDOWN": "lawbot_markdown",
    "LAWBOT_MODELS": "lawbot_models",
    "LAWBOT_GENERATOR": "lawbot_generator",
}
_ENV = {"VAR_" + env: "{{ var.value.get('%s', '') }}" % var for env, var in _SETTINGS.items()}

_PRELUDE = r"""
set -euo pipefail
BIN="${VAR_LAWBOT_BIN:-${LAWBOT_BIN:-lawbot}}"
ROOT="${VAR_LAWBOT_STATE_ROOT:-${LAWBOT_STATE_ROOT:?set the Variable lawbot_state_root or LAWBOT_STATE_ROOT}}"
DATA="${VAR_LAWBOT_DATA:-${LAWBOT_DATA:?set the Variable lawbot_data or LAWBOT_DATA}}"
GATE="${VAR_LAWBOT_GATE:-${LAWBOT_GATE:-}}"
NOTIFY="${VAR_LAWBOT_NOTIFY:-${LAWBOT_NOTIFY:-}}"
MARKDOWN="${VAR_LAWBOT_MARKDOWN:-${LAWBOT_MARKDOWN:-}}"
MODELS="${VAR_LAWBOT_MODELS:-${LAWBOT_MODELS:-}}"
GENERATOR="${VAR_LAWBOT_GENERATOR:-${LAWBOT_GENERATOR:-}}"
TOKEN_ARGS=()
if [ -n "${LAWBOT_ADMIN_TOKEN_FILE:-}" ]; then TOKEN_ARGS=(--admin-token-file "$LAWBOT_ADMIN_TOKEN_FILE"); fi
report() {
  # The report goes to the task log; its path is the last line, so it is the task's XCom.
  if [ -f "$ROOT/update-report.md" ]; then cat "$ROOT/update-report.md"; fi
  echo "$ROOT/update-report.md"
}
"""


def _step(step: str, extra: str = "", show_report: bool = False) -> str:
    cmd = (
        f'"$BIN" update --state "$ROOT" --data "$DATA" --step {step} '
        '${MARKDOWN:+--markdown "$MARKDOWN"} ${MODELS:+--models "$MODELS"} ${GENERATOR:+--generator "$GENERATOR"} '
        f"{extra}"
    )
    if show_report:
        # The report is shown whether the step passed or failed; the step's status is the task's.
        return _PRELUDE + f"\nrc=0\n{cmd} || rc=$?\nreport\nexit $rc\n"
    return _PRELUDE + "\n" + cmd + "\n"


with DAG(
    dag_id="lawbot_weekly",
    description="fetch the corpus, build and evaluate a new LawBot version, publish it if it passes the gate",
    schedule="0 3 * * 1",  # Mondays 03:00: the week's laws and decisions are in by then
    start_date=pendulum.datetime(2026, 11, 2, tz="Asia/Seoul"),
    catchup=False,
    max_active_runs=1,  # one run at a time: lawbot update also locks the state root
    default_args={
        "retries": 3,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": 2.0,  # a multiplier in Airflow 3: 2, 4, 8, 16 min, capped
        "max_retry_delay": timedelta(minutes=30),
        "execution_timeout": timedelta(hours=6),
    },
    tags=["lawbot"],
) as dag:
    fetch = BashOperator(task_id="fetch", bash_command=_step("fetch"), env=_ENV, append_env=True)
    ingest = BashOperator(task_id="ingest", bash_command=_step("ingest"), env=_ENV, append_env=True)
    train = BashOperator(task_id="train", bash_command=_step("train"), env=_ENV, append_env=True)
    evaluate = BashOperator(task_id="evaluate", bash_command=_step("evaluate"), env=_ENV, append_env=True)
    # A refused version is a verdict, not a glitch: no retries.
    gate = BashOperator(
        task_id="gate",
        bash_command=_step("gate", '${GATE:+--gate "$GATE"}', show_report=True),
        env=_ENV,
        append_env=True,
        retries=0,
    )
    publish = BashOperator(
        task_id="publish",
        bash_command=_step("publish", '${NOTIFY:+--notify "$NOTIFY"} "${TOKEN_ARGS[@]}"', show_report=True),
        env=_ENV,
        append_env=True,
    )
    fetch >> ingest >> train >> evaluate >> gate >> publish
