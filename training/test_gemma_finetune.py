"""Tests of gemma_finetune.py on the tiny random Gemma 3 of test_gemma_convert.py and a few
hand-written Korean Q&A pairs (a character tokenizer stands in for SentencePiece).

    python -m pytest training/test_gemma_finetune.py
"""

import json
import os
import sys
import tempfile
import types

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gemma_convert as gc  # noqa: E402
import gemma_finetune as ft  # noqa: E402
from test_gemma_convert import tiny_config, tiny_vocab, tiny_weights  # noqa: E402

STATUTES = [
    {"law": "주택임대차보호법", "article": "제3조의3", "title": "임차권등기명령",
     "text": "① 임대차가 끝난 후 보증금이 반환되지 아니한 경우\n임차인은 임차권등기명령을 신청할 수 있다."},
    {"law": "주택임대차보호법", "article": "제4조", "title": "임대차기간 등", "text": "① 기간을 정하지 아니한 임대차는 2년으로 본다."},
    {"law": "민법", "article": "제618조", "title": "임대차의 의의", "text": "임대차는 차임을 지급할 것을 약정한다."},
    {"law": "근로기준법", "article": "제36조", "title": "", "text": "사용자는 14일 이내에 금품을 지급하여야 한다."},
]

QA = [
    {"question": "전세가 끝났는데 보증금을 못 받았어요.",
     "answer": "「주택임대차보호법」 제3조의3에 따라 임차권등기명령을 신청하세요. 같은 법 제4조도 보세요."},
    {"question": "임대차 기간을 안 정했어요.", "answer": "주택임대차보호법 제4조에 따라 2년으로 봅니다."},
    {"question": "임대차가 무엇인가요?", "answer": "민법 제618조의 계약입니다."},
    {"question": "퇴직금을 못 받았어요.", "answer": "근로기준법 제36조에 따라 14일 안에 받아야 합니다."},
    {"question": "월세를 올려 달래요.", "answer": "5% 이내로만 올릴 수 있습니다."},
    {"question": "집주인이 보증금을 안 줘요.", "answer": "내용증명을 보내고 지급명령을 신청하세요."},
    {"question": "계약서를 잃어버렸어요.", "answer": "확정일자 기록을 확인하세요. 없는법 제9조는 없습니다."},
    {"question": "보증금 반환 소송은 어떻게 하나요?", "answer": "소액이면 소액사건심판을 이용하세요."},
]


class CharTokenizer:
    """One id per character (4 + code point mod 256), in the tiny model's 300-id vocabulary."""

    def encode(self, text):
        return [4 + ord(c) % 256 for c in text]


@pytest.fixture(scope="module")
def tf():
    import tensorflow
    return tensorflow


@pytest.fixture(scope="module")
def template():
    return ft.load_template()


@pytest.fixture(scope="module")
def data():
    """The Q&A and statutes written as the corpus files are, and read back."""
    with tempfile.TemporaryDirectory() as d:
        for name, rows in [("qa.jsonl", QA), ("statutes.jsonl", STATUTES)]:
            with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                for r in rows:
                    f.write(json.dumps(r, ensure_ascii=False) + "\n")
        qa = ft.read_jsonl(os.path.join(d, "qa.jsonl"))
        index = ft.statute_index(ft.read_jsonl(os.path.join(d, "statutes.jsonl")))
    return qa, index


def test_prompt_format(template):
    """The exact text the Go side must build from advice/prompt.json."""
    ev = [{"kind": "article", "law": "민법", "article": "제618조", "title": "임대차의 의의",
           "text": "임대차는\n  차임을 약정한다."},
          {"kind": "article", "law": "근로기준법", "article": "제36조", "title": "", "text": "금품 청산"},
          {"kind": "qa", "text": "내용증명을 보내세요."},
          {"kind": "precedent", "case_no": "2016다235411", "text": "판시사항"}]
    got = ft.format_prompt(template, "  보증금을\n못 받았어요 {evidence} ", ev)
    assert got == (template["instruction"] + "\n\n질문: 보증금을 못 받았어요 {evidence}\n\n근거:\n"
                   "- 「민법」 제618조(임대차의 의의) 임대차는 차임을 약정한다.\n"
                   "- 「근로기준법」 제36조 금품 청산\n"
                   "- [상담 사례] 내용증명을 보내세요.\n"
                   "- [판례 2016다235411] 판시사항\n\n답변:\n")
    assert ft.format_prompt(template, "질문", []).endswith("근거:\n(없음)\n\n답변:\n")
    long = ft.render_item(template, {"kind": "qa", "text": "가" * 1000})
    assert long == "[상담 사례] " + "가" * template["item_max_chars"] + template["ellipsis"]


def test_fit_prompt_drops_evidence_from_the_end(template):
    ev = [{"kind": "qa", "text": "첫째 " * 10}, {"kind": "qa", "text": "둘째 " * 10}]
    count = len
    full = ft.format_prompt(template, "질문", ev)
    assert ft.fit_prompt(template, "질문", ev, len(full), count) == (full, 2)
    one = ft.format_prompt(template, "질문", ev[:1])
    assert ft.fit_prompt(template, "질문", ev, len(full) - 1, count) == (one, 1)
    none = ft.format_prompt(template, "질문", [])
    assert ft.fit_prompt(template, "질문", ev, len(none), count) == (none, 0)
    assert ft.fit_prompt(template, "질문", ev, len(none) - 1, count) is None


def test_cited_articles(data):
    qa, index = data
    got = [(r["law"], r["article"]) for r in ft.cited_articles(QA[0]["answer"], index)]
    assert got == [("주택임대차보호법", "제3조의3"), ("주택임대차보호법", "제4조")]
    assert [r["article"] for r in ft.cited_articles("민법 제618조, 민법 제618조", index)] == ["제618조"]
    # A law the corpus lacks, or an article it lacks, gives nothing.
    assert ft.cited_articles(QA[6]["answer"] + " 민법 제9999조", index) == []
    assert [r["law"] for r in ft.cited_articles("상가건물 임대차보호법 제10조", index)] == []


def test_split_deterministic_and_disjoint(data):
    qa, index = data
    a_train, a_eval = ft.build_examples(qa, index, seed=2, eval_fraction=0.3)
    b_train, b_eval = ft.build_examples(list(qa), index, seed=2, eval_fraction=0.3)
    assert a_train == b_train and a_eval == b_eval
    assert a_eval and a_train
    assert {e["key"] for e in a_train}.isdisjoint({e["key"] for e in a_eval})
    assert len(a_train) + len(a_eval) == len(qa)
    # File order does not matter; another seed draws another split.
    r_train, r_eval = ft.build_examples(qa[::-1], index, seed=2, eval_fraction=0.3)
    assert sorted(e["key"] for e in r_eval) == sorted(e["key"] for e in a_eval)
    splits = {tuple(sorted(e["key"] for e in ft.build_examples(qa, index, s, 0.3)[1])) for s in range(6)}
    assert len(splits) > 1
    # Evidence: the cited articles, then a neighbour's answer from the training side, never its own.
    train_answers = {e["target"] for e in a_train}
    found = 0
    for e in a_train + a_eval:
        nb = [i["text"] for i in e["evidence"] if i["kind"] == "qa"]
        assert len(nb) <= 1 and all(a in train_answers and a != e["target"] for a in nb)
        found += len(nb)
    assert found >= len(qa) - 2
    first = next(e for e in a_train + a_eval if e["question"] == QA[0]["question"])
    assert [i["kind"] for i in first["evidence"]] == ["article", "article", "qa"]
    # Precedents: 판시사항 + the articles they cite -> 판결요지, split by case number.
    prec = {"case_no": "2016다235411", "holding": "임대차의 의의", "summary": "  차임 약정이 요소이다. ",
            "cited_statutes": ["민법 제618조", "민법 제9999조", "없는법 제1조"]}
    p_train, p_eval = ft.build_examples(qa, index, seed=2, eval_fraction=0.3, precedents=[prec])
    (p,) = [e for e in p_train + p_eval if e["key"] == "prec:2016다235411"]
    assert p["question"] == "임대차의 의의" and p["target"] == "차임 약정이 요소이다."
    assert [(i["law"], i["article"]) for i in p["evidence"]] == [("민법", "제618조")]
    assert (p in p_eval) == ft.is_heldout("prec:2016다235411", 2, 0.3)


def test_distractors_mix_found_articles_with_the_gold(data):
    qa, index = data
    plain, _ = ft.build_examples(qa, index, seed=2, eval_fraction=0.0)
    mixed, _ = ft.build_examples(qa, index, seed=2, eval_fraction=0.0, distractors=2)
    again, _ = ft.build_examples(qa, index, seed=2, eval_fraction=0.0, distractors=2)
    assert mixed == again  # the shuffle is seeded
    for p, m in zip(plain, mixed):
        gold = [(i["law"], i["article"]) for i in p["evidence"] if i["kind"] == "article"]
        arts = [(i["law"], i["article"]) for i in m["evidence"] if i["kind"] == "article"]
        # Every gold article stays, at most 2 others join, none twice; Q&A items still come last.
        assert set(gold) <= set(arts) and len(arts) == len(set(arts)) and len(arts) <= len(gold) + 2
        kinds = [i["kind"] for i in m["evidence"]]
        assert kinds == sorted(kinds, key=lambda k: k != "article")
    # A question about a deposit finds the deposit article though its answer cites none.
    (deposit,) = [e for e in mixed if e["question"] == "집주인이 보증금을 안 줘요."]
    assert ("주택임대차보호법", "제3조의3") in [(i.get("law"), i.get("article")) for i in deposit["evidence"]]
    # Precedents get them too.
    prec = {"case_no": "2016다235411", "holding": "임대차 보증금 반환", "summary": "반환하여야 한다.",
            "cited_statutes": ["민법 제618조"]}
    p_train, _ = ft.build_examples(qa, index, seed=2, eval_fraction=0.0, precedents=[prec], distractors=1)
    (p,) = [e for e in p_train if e["key"] == "prec:2016다235411"]
    assert len(p["evidence"]) == 2 and ("민법", "제618조") in [(i["law"], i["article"]) for i in p["evidence"]]


def test_restating_neighbour_left_out():
    answer = "내용증명을 보내고 지급명령을 신청하세요. 그래도 안 되면 소송을 하세요."
    assert ft.restates(answer + " 덧붙임.", answer)
    assert not ft.restates("소액사건심판을 이용하세요. 3천만원 이하입니다.", answer)
    qa = [{"question": "보증금을 못 받았어요 어떻게", "answer": answer},
          {"question": "보증금을 못 받았어요 어떻게 하죠", "answer": answer}]
    train, _ = ft.build_examples(qa, {}, seed=1, eval_fraction=0.0)
    assert all(i["kind"] != "qa" for e in train for i in e["evidence"])


def test_loss_masks_the_prompt(tf, template):
    cfg = tiny_config()
    tok = CharTokenizer()
    ex = {"question": "보증금?", "evidence": [], "target": "신청하세요."}
    ids, plen, _ = ft.encode_example(tok, template, ex, 400, 16, cfg.bos, cfg.eos)
    assert ids[0] == cfg.bos and ids[-1] == cfg.eos
    assert ids[plen:] == tok.encode("신청하세요.") + [cfg.eos]
    ex2 = {"question": "임대차?", "evidence": [], "target": "2년입니다 그렇습니다."}
    enc2 = ft.encode_example(tok, template, ex2, 400, 16, cfg.bos, cfg.eos)
    x, y, m = ft.batch_arrays([(ids, plen), enc2[:2]])
    # The mask is on exactly the target tokens (labels), prompt and padding off.
    for r, (seq, p) in enumerate([(ids, plen), enc2[:2]]):
        assert m[r].sum() == len(seq) - p
        assert list(y[r][m[r] > 0]) == seq[p:]
        assert not m[r][:p - 1].any() and not m[r][len(seq) - 1:].any()
    # The loss is the mean cross-entropy of those tokens alone.
    gen = gc.make_generator(tf, cfg, tiny_weights(cfg), max_context=256)
    s, n = ft.loss_sum(tf, cfg, gen, None, tf.constant(x), tf.constant(y), tf.constant(m))
    logits = ft.all_logits(tf, cfg, gen, None, tf.constant(x)).numpy()
    logp = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True)) \
        - logits.max(-1, keepdims=True)
    nll = -np.take_along_axis(logp, y[..., None], axis=-1)[..., 0]
    assert float(n) == m.sum()
    np.testing.assert_allclose(float(s), (nll * m).sum(), rtol=1e-4)
    assert abs((nll * m).sum() / m.sum() - nll[:, :len(ids) - 1].mean()) > 1e-3


@pytest.fixture(scope="module")
def trained(tf, template, data):
    """The tiny model, its adapters trained a few steps on one repeated batch."""
    qa, index = data
    cfg = tiny_config()
    w = tiny_weights(cfg)
    tok = CharTokenizer()
    train_ex, _ = ft.build_examples(qa, index, seed=1, eval_fraction=0.25, neighbours=0)
    enc = [ft.encode_example(tok, template, e, 160, 32, cfg.bos, cfg.eos)[:2] for e in train_ex[:3]]
    batch = ft.batch_arrays(enc)
    gen = gc.make_generator(tf, cfg, w, max_context=160)
    lora = ft.make_lora(tf, cfg, rank=4, alpha=8.0, seed=0)
    base = [v.numpy().copy() for v in gen.variables]
    adapters = [v.numpy().copy() for v in lora.variables_list]
    trainer = ft.Trainer(tf, cfg, gen, lora)
    before = trainer.loss([batch])
    losses = [trainer.step([batch, batch], 5e-3)[0] for _ in range(6)]
    after = trainer.loss([batch])
    return types.SimpleNamespace(cfg=cfg, w=w, gen=gen, lora=lora, base=base, adapters=adapters,
                                 before=before, after=after, losses=losses, batch=batch)


def test_training_reduces_loss(trained):
    t = trained
    assert t.after < t.before - 0.1, (t.before, t.losses, t.after)
    # The step's own loss (the accumulated micro-batches' mean) starts at the unchanged model's.
    assert abs(t.losses[0] - t.before) < 1e-3


def test_base_frozen_adapters_trained(trained):
    t = trained
    for before, v in zip(t.base, t.gen.variables):
        np.testing.assert_array_equal(before, v.numpy(), err_msg=v.name)
    changed = [not np.array_equal(a, v.numpy()) for a, v in zip(t.adapters, t.lora.variables_list)]
    assert all(changed), [v.name for c, v in zip(changed, t.lora.variables_list) if not c]


def test_merged_export_equals_adapted_model(tf, trained):
    t = trained
    cfg = t.cfg
    x = t.batch[0][:1, :40]
    want = ft.all_logits(tf, cfg, t.gen, t.lora, tf.constant(x)).numpy()[0]
    base = ft.all_logits(tf, cfg, t.gen, None, tf.constant(x)).numpy()[0]
    assert np.abs(want - base).max() > 1e-2  # the adapters matter
    merged = ft.merged_weights(cfg, t.w, t.lora)
    assert merged["blk.0.attn_k.weight"] is t.w["blk.0.attn_k.weight"]
    model = gc.make_generator(tf, cfg, merged, max_context=160)
    tokens, scores, types_ = tiny_vocab()
    with tempfile.TemporaryDirectory() as out:
        meta, _ = gc.export_generator(tf, model, cfg, out, gc.tokenizer_model(tokens, scores, types_, cfg),
                                      {"package": "tiny"}, 160, "float32", golden_tokens=4,
                                      extra_meta={"fine_tune": {"rank": 4}}, extra_files={"prompt.json": b"{}"})
        d = os.path.join(out, gc.NAME)
        assert meta["fine_tune"] == {"rank": 4}
        with open(os.path.join(d, "model.json"), encoding="utf-8") as f:
            assert json.load(f)["fine_tune"] == {"rank": 4}
        assert os.path.exists(os.path.join(d, "prompt.json"))
        loaded = tf.saved_model.load(d)
        pre, dec = loaded.signatures["prefill"], loaded.signatures["decode"]
        for n in [1, 5, 17, 40]:
            got = pre(token_ids=tf.constant(x[:, :n]))["logits"].numpy()[0]
            np.testing.assert_allclose(got, want[n - 1], rtol=1e-4, atol=1e-4, err_msg="%d tokens" % n)
        # decode continues the adapted model too.
        out1 = pre(token_ids=tf.constant(x[:, :20]))
        out2 = dec(token_id=tf.constant(x[:, 20:21]), cache=out1["cache"], position=tf.constant(20))
        np.testing.assert_allclose(out2["logits"].numpy()[0], want[20], rtol=1e-4, atol=1e-4)


def test_train_loop(tf, template, data):
    """train() runs its loop: the split's examples encoded, losses before and after, steps counted."""
    qa, index = data
    cfg = tiny_config()
    train_ex, eval_ex = ft.build_examples(qa, index, seed=1, eval_fraction=0.25)
    args = ft.parse_args(["--data", "-", "--out", "-", "--max-len", "160", "--min-target", "24",
                          "--batch-size", "2", "--grad-accum", "2", "--max-steps", "2", "--epochs", "3",
                          "--lr", "1e-2", "--warmup-steps", "1", "--rank", "2", "--eval-examples", "2"])
    lora, report = ft.train(tf, cfg, tiny_weights(cfg), CharTokenizer(), template, train_ex, eval_ex, args)
    assert report["steps"] == 2 and len(report["epochs"]) == 2
    assert report["train_examples"] == len(train_ex) and report["eval_examples"] == len(eval_ex)
    assert set(report["before"]) == {"train", "eval"} and report["after"] == \
        {k: report["epochs"][-1][k] for k in ("train", "eval")}
    assert lora.rank == 2
    args.max_len = 40  # no prompt fits: refused, not trained on nothing
    with pytest.raises(SystemExit):
        ft.train(tf, cfg, tiny_weights(cfg), CharTokenizer(), template, train_ex, eval_ex, args)


def test_prompt_golden_shared_with_go(template):
    """advice/testdata/prompt_golden.json: prompts the Go answer stage must build byte for byte."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "advice", "testdata", "prompt_golden.json")
    with open(path, encoding="utf-8") as f:
        golden = json.load(f)
    assert golden["cases"]
    for c in golden["cases"]:
        assert ft.format_prompt(template, c["question"], c["items"]) == c["want"], c["name"]
