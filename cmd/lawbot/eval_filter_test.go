package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/evaluation"
	"github.com/lawbot-kr/lawbot/models"
)

func TestEvalFilterCommand(t *testing.T) {
	data := writeFilterCorpus(t)
	stateDir, _ := trainFixture(t, data)

	code, out, errOut := runLawbot("eval", "--task", "filter", "--data", data, "--state", stateDir)
	if code != 0 {
		t.Fatalf("eval exit %d: %s", code, errOut)
	}
	for _, want := range []string{"FAR", "of 4 non-legal texts accepted", "of 3 legal questions rejected", "latency per query  p50", "held-out at training"} {
		if !strings.Contains(out, want) {
			t.Errorf("eval output lacks %q:\n%s", want, out)
		}
	}

	code, out, errOut = runLawbot("eval", "--task", "filter", "--data", data, "--state", stateDir, "--json")
	if code != 0 {
		t.Fatalf("eval --json exit %d: %s", code, errOut)
	}
	var rep evaluation.FilterReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("eval --json: %v\n%s", err, out)
	}
	if rep.NonLegal != 4 || rep.Legal != 3 || rep.Model != models.FilterPath(stateDir) {
		t.Errorf("report counts or model wrong: %+v", rep)
	}
	if rep.FAR != float64(len(rep.FalseAccepts))/4 || rep.FRR != float64(len(rep.FalseRejects))/3 {
		t.Errorf("rates disagree with the error lists: %+v", rep)
	}
	if rep.LatencyP50us <= 0 || rep.LatencyP99us < rep.LatencyP50us {
		t.Errorf("latency p50 %v p99 %v", rep.LatencyP50us, rep.LatencyP99us)
	}
	for _, id := range rep.FalseRejects {
		if !strings.HasPrefix(id, "q") {
			t.Errorf("false reject %q is not a question id", id)
		}
	}
	for _, id := range rep.FalseAccepts {
		if !strings.HasPrefix(id, "filter_nonlegal.dev.jsonl:") {
			t.Errorf("false accept %q is not a FILE:LINE id", id)
		}
	}
}

func TestEvalFilterExplain(t *testing.T) {
	data := writeFilterCorpus(t)
	stateDir, _ := trainFixture(t, data, "--morphemes=false")
	code, out, errOut := runLawbot("eval", "--task", "filter", "--data", data, "--state", stateDir, "--explain", "q1")
	if code != 0 {
		t.Fatalf("explain exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "q1  집주인이 전세 보증금을") || !strings.Contains(out, "gold legal=true") || strings.Count(out, `c:"`) < 5 {
		t.Errorf("explain output:\n%s", out)
	}
	code, out, _ = runLawbot("eval", "--task", "filter", "--data", data, "--state", stateDir, "--explain", "filter_nonlegal.dev.jsonl:2")
	if code != 0 || !strings.Contains(out, "바다 보러 가고 싶어") {
		t.Errorf("explain by FILE:LINE: exit %d\n%s", code, out)
	}
	code, _, errOut = runLawbot("eval", "--task", "filter", "--data", data, "--state", stateDir, "--explain", "nope")
	if code != 1 || !strings.Contains(errOut, `no dev text with id "nope"`) {
		t.Errorf("unknown id: exit %d, %q", code, errOut)
	}
}

func TestEvalFilterErrors(t *testing.T) {
	data := writeFilterCorpus(t)
	empty := t.TempDir()
	code, _, errOut := runLawbot("eval", "--task", "filter", "--data", data, "--state", empty)
	if code != 1 || !strings.Contains(errOut, "no filter model in "+empty+"; run lawbot train") {
		t.Errorf("no model: exit %d, %q", code, errOut)
	}

	stateDir, _ := trainFixture(t, data, "--morphemes=false")
	path := models.FilterPath(stateDir)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw[:len(raw)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runLawbot("eval", "--task", "filter", "--data", data, "--state", stateDir)
	if code != 1 || !strings.Contains(errOut, "corrupt model file") || !strings.Contains(errOut, path) {
		t.Errorf("truncated model: exit %d, %q", code, errOut)
	}
}
