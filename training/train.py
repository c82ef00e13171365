#!/usr/bin/env python3
"""Train LawBot's TensorFlow models on a `lawbot train export` directory.

    python training/train.py --data EXPORT_DIR --out OUT_DIR [--steps N] [--epochs N]
                              [--dim 256] [--seed 1] [--models encoder,tagger]

The export holds token ids made by the Go tokeniser (models.Tokenizer), so this script never
tokenises text. It writes OUT_DIR/encoder/ and OUT_DIR/tagger/, each a SavedModel
(tf.saved_model.save of a tf.Module) with the export's vocab.txt and tokenizer.json (the
tagger also labels.txt), model.json and golden.json:

- encoder, signature "embed": ids int32 [batch, len] (0-padded) -> embedding float32
  [batch, dim], L2-normalised. A bag-of-tokens dual encoder with shared weights (token
  embedding, masked mean pooling, a dense layer, L2 normalisation) trained with in-batch
  negatives (softmax over the batch's similarities times a temperature, both directions) on
  pairs.jsonl.
- tagger, signature "tag": ids int32 [batch, len] -> scores float32 [batch, labels], sigmoid.
  Token embedding, masked mean pooling, a dense hidden layer, one logit per label, trained with
  binary cross-entropy on tagger.jsonl.

Each model trains for --epochs over its training examples, capped by --steps and by its time
budget (--encoder-budget, --tagger-budget seconds), so a run on 2 CPU cores ends in time.
"""

import argparse
import json
import os
import shutil
import sys
import time

import numpy as np

ENCODER, TAGGER = "encoder", "tagger"
MODEL_VERSION = 1
PAD, UNK = 0, 1


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="export directory (lawbot train export)")
    p.add_argument("--out", required=True, help="output directory: OUT/encoder, OUT/tagger")
    p.add_argument("--models", default="encoder,tagger", help="comma-separated: encoder, tagger")
    p.add_argument("--steps", type=int, default=0, help="cap on training steps per model (0: none)")
    p.add_argument("--epochs", type=float, default=4.0, help="passes over the training examples")
    p.add_argument("--dim", type=int, default=256, help="embedding size")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--batch", type=int, default=256, help="encoder batch (the in-batch negatives)")
    p.add_argument("--tagger-batch", type=int, default=128)
    p.add_argument("--temperature", type=float, default=20.0, help="scale of the encoder's similarities")
    p.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate")
    p.add_argument("--hidden", type=int, default=512, help="tagger hidden layer")
    p.add_argument("--train-len", type=int, default=0,
                   help="cut training sequences to this many ids (0: the export's max_len)")
    p.add_argument("--val-fraction", type=float, default=0.02)
    p.add_argument("--encoder-budget", type=float, default=540.0, help="seconds of encoder training at most")
    p.add_argument("--tagger-budget", type=float, default=240.0, help="seconds of tagger training at most")
    p.add_argument("--threads", type=int, default=0, help="TensorFlow intra-op threads (0: all cores)")
    p.add_argument("--log-every", type=float, default=10.0, help="seconds between progress lines")
    args = p.parse_args(argv)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in args.models:
        if m not in (ENCODER, TAGGER):
            p.error("unknown model %r (models: encoder, tagger)" % m)
    return args


def log(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------------------------------------
# Data

class Ragged:
    """Id sequences stored flat: ids[offsets[i]:offsets[i+1]] is sequence i."""

    def __init__(self, seqs):
        lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
        self.offsets = np.zeros(len(seqs) + 1, dtype=np.int64)
        np.cumsum(lengths, out=self.offsets[1:])
        self.ids = np.fromiter((i for s in seqs for i in s), dtype=np.int32, count=int(self.offsets[-1]))

    def __len__(self):
        return len(self.offsets) - 1

    def get(self, i):
        return self.ids[self.offsets[i]:self.offsets[i + 1]]

    def batch(self, rows, max_len):
        """A 0-padded [len(rows), longest] int32 array, each row cut at max_len."""
        seqs = [self.get(i)[:max_len] for i in rows]
        out = np.zeros((len(seqs), max(1, max(len(s) for s in seqs))), dtype=np.int32)
        for r, s in enumerate(seqs):
            out[r, :len(s)] = s
        return out


def pad(seqs):
    out = np.zeros((len(seqs), max(1, max(len(s) for s in seqs))), dtype=np.int32)
    for r, s in enumerate(seqs):
        out[r, :len(s)] = s
    return out


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().split("\n")[:-1]


def load_export(data):
    info = {}
    if os.path.exists(os.path.join(data, "export.json")):
        with open(os.path.join(data, "export.json"), encoding="utf-8") as f:
            info = json.load(f)
    with open(os.path.join(data, "tokenizer.json"), encoding="utf-8") as f:
        tok = json.load(f)
    vocab = read_lines(os.path.join(data, "vocab.txt"))
    if len(vocab) < 2 or vocab[0] != "[PAD]" or vocab[1] != "[UNK]":
        raise SystemExit("%s/vocab.txt must start with [PAD] and [UNK]" % data)
    return info, tok, vocab


def split(n, fraction, rng, min_val=1):
    """Shuffled indices, split into train and validation."""
    order = rng.permutation(n)
    n_val = min(n - 1, max(min_val, int(round(n * fraction)))) if n > 1 else 0
    return order[n_val:], order[:n_val]


# ---------------------------------------------------------------------------------------------
# Models

def make_modules(tf):
    """The model classes, built once TensorFlow is imported (and configured)."""

    class BagOfTokens(tf.Module):
        """Token embedding and masked mean pooling, shared by both models."""

        def __init__(self, vocab, dim, rng, name=None):
            super().__init__(name=name)
            self.vocab = vocab
            table = rng.normal(0.0, 0.1, (vocab, dim)).astype(np.float32)
            table[PAD] = 0.0
            self.table = tf.Variable(table, name="table")

        def pool(self, ids):
            # Ids outside the vocabulary count as [UNK] rather than failing the lookup.
            ids = tf.where((ids < 0) | (ids >= self.vocab), tf.ones_like(ids) * UNK, ids)
            mask = tf.cast(ids > PAD, tf.float32)[:, :, None]
            summed = tf.reduce_sum(tf.gather(self.table, ids) * mask, axis=1)
            return summed / tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)

    def dense(rng, n_in, n_out, name):
        w = rng.normal(0.0, np.sqrt(1.0 / n_in), (n_in, n_out)).astype(np.float32)
        return tf.Variable(w, name=name + "_w"), tf.Variable(np.zeros(n_out, np.float32), name=name + "_b")

    class Encoder(tf.Module):
        def __init__(self, vocab, dim, rng):
            super().__init__(name="encoder")
            self.bag = BagOfTokens(vocab, dim, rng)
            self.w, self.b = dense(rng, dim, dim, "proj")

        def __call__(self, ids):
            x = tf.matmul(self.bag.pool(ids), self.w) + self.b
            return tf.math.l2_normalize(x, axis=-1)

        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name="ids")])
        def embed(self, ids):
            return {"embedding": self(ids)}

    class Tagger(tf.Module):
        def __init__(self, vocab, dim, hidden, labels, rng):
            super().__init__(name="tagger")
            self.bag = BagOfTokens(vocab, dim, rng)
            self.w1, self.b1 = dense(rng, dim, hidden, "hidden")
            self.w2, self.b2 = dense(rng, hidden, labels, "out")
            # Start each label at a low prior: most articles are not cited by most decisions.
            self.b2.assign(np.full(labels, -5.0, np.float32))

        def logits(self, ids):
            h = tf.nn.relu(tf.matmul(self.bag.pool(ids), self.w1) + self.b1)
            return tf.matmul(h, self.w2) + self.b2

        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name="ids")])
        def tag(self, ids):
            return {"scores": tf.sigmoid(self.logits(ids))}

    return Encoder, Tagger


class Progress:
    def __init__(self, name, total_steps, budget, every):
        self.name, self.total, self.budget, self.every = name, total_steps, budget, every
        self.start = time.time()
        self.last = self.start
        self.loss = None

    def elapsed(self):
        return time.time() - self.start

    def out_of_time(self):
        return self.budget > 0 and self.elapsed() >= self.budget

    def update(self, step, loss):
        self.loss = loss if self.loss is None else 0.95 * self.loss + 0.05 * loss
        now = time.time()
        if now - self.last < self.every and step != self.total:
            return
        self.last = now
        el = now - self.start
        rate = step / el if el > 0 else 0.0
        eta = (self.total - step) / rate if rate > 0 else 0.0
        if self.budget > 0:
            eta = min(eta, max(0.0, self.budget - el))
        log("%s: step %d/%d  loss %.4f  %.1f steps/s  elapsed %ds  ETA %ds"
            % (self.name, step, self.total, self.loss, rate, el, eta))


def batches(n, batch, rng):
    """Endless shuffled batches of row indices (whole passes, the last short batch dropped)."""
    while True:
        order = rng.permutation(n)
        for i in range(0, n - batch + 1, batch):
            yield order[i:i + batch]


def plan_steps(args, n_train, batch):
    steps = max(1, int(args.epochs * n_train / batch))
    if args.steps > 0:
        steps = min(steps, args.steps)
    return steps


def dataset(tf, gen, spec):
    """A tf.data pipeline over a Python generator, prefetching the next batches."""
    return tf.data.Dataset.from_generator(gen, output_signature=spec).prefetch(4)


def train_steps(name, step_fn, batches, steps, budget, log_every):
    """Runs step_fn over the batches for at most steps steps and budget seconds, with progress
    lines; returns the steps done, the seconds they took and the last loss (None before any)."""
    prog = Progress(name, steps, budget, log_every)
    done = 0
    for inputs, targets in batches:
        loss = float(step_fn(inputs, targets))
        done += 1
        prog.update(done, loss)
        if done >= steps or prog.out_of_time():
            break
    if done < steps:
        log("%s: stopped at step %d of %d: time budget of %ds spent" % (name, done, steps, budget))
    return done, prog.elapsed(), prog.loss


# ---------------------------------------------------------------------------------------------
# Encoder

def train_encoder(tf, args, info, tok, vocab, out):
    Encoder, _ = make_modules(tf)
    rng = np.random.default_rng(args.seed)
    t0 = time.time()
    a_seqs, b_seqs, kinds = [], [], []
    for rec in read_jsonl(os.path.join(args.data, "pairs.jsonl")):
        a_seqs.append(rec["a"] or [UNK])
        b_seqs.append(rec["b"] or [UNK])
        kinds.append(rec.get("kind", ""))
    if len(a_seqs) < 2:
        raise SystemExit("pairs.jsonl holds %d pairs; need at least 2" % len(a_seqs))
    A, B = Ragged(a_seqs), Ragged(b_seqs)
    kinds = np.array(kinds)
    del a_seqs, b_seqs
    train_idx, val_idx = split(len(A), args.val_fraction, rng)
    log("encoder: %d pairs (%s) read in %.1fs; %d for training, %d held out"
        % (len(A), ", ".join("%s %d" % (k, (kinds == k).sum()) for k in sorted(set(kinds))),
           time.time() - t0, len(train_idx), len(val_idx)))

    max_len = args.train_len or tok["max_len"]
    batch = min(args.batch, len(train_idx))
    steps = plan_steps(args, len(train_idx), batch)
    model = Encoder(len(vocab), args.dim, rng)
    opt = tf.keras.optimizers.Adam(learning_rate=args.lr)
    temperature = tf.constant(args.temperature, tf.float32)

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.int32)])
    def step_fn(a, b):
        with tf.GradientTape() as tape:
            ea, eb = model(a), model(b)
            sim = tf.matmul(ea, eb, transpose_b=True) * temperature
            labels = tf.range(tf.shape(sim)[0])
            loss = 0.5 * (tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, sim)) +
                          tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, tf.transpose(sim))))
        variables = model.trainable_variables
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    def gen():
        r = np.random.default_rng(args.seed + 1)
        for rows in batches(len(train_idx), batch, r):
            idx = train_idx[rows]
            yield A.batch(idx, max_len), B.batch(idx, max_len)

    spec = (tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.int32))
    val_before = encoder_recall(model, A, B, val_idx, kinds, max_len)
    log("encoder: before training, val recall@1 (in batches of 100) %.4f" % val_before["all"])
    log("encoder: training %d steps of %d pairs (budget %ds)" % (steps, batch, args.encoder_budget))
    done, train_seconds, last_loss = train_steps("encoder", step_fn, dataset(tf, gen, spec), steps, args.encoder_budget, args.log_every)
    val = encoder_recall(model, A, B, val_idx, kinds, max_len)
    log("encoder: val recall@1 (in batches of 100) %.4f (%s); before training %.4f"
        % (val["all"], ", ".join("%s %.4f" % (k, v) for k, v in sorted(val.items()) if k != "all"),
           val_before["all"]))

    golden_rows = pick_golden(A, val_idx if len(val_idx) >= 3 else train_idx, tok["max_len"])
    meta = {
        "name": ENCODER, "version": MODEL_VERSION, "dim": args.dim, "labels": 0,
        "max_len": tok["max_len"], "vocab": len(vocab), "steps": done, "planned_steps": steps,
        "batch": batch, "epochs": round(done * batch / max(1, len(train_idx)), 3),
        "temperature": args.temperature, "lr": args.lr, "train_len": max_len,
        "train_pairs": int(len(train_idx)), "val_pairs": int(len(val_idx)),
        "val_recall_at_1": round(val["all"], 4),
        "val_recall_at_1_by_kind": {k: round(v, 4) for k, v in val.items() if k != "all"},
        "val_recall_at_1_untrained": round(val_before["all"], 4),
        "loss": round(last_loss or 0.0, 4), "train_seconds": round(train_seconds, 1),
        "signature": "embed", "input": "ids", "output": "embedding",
    }
    export(tf, model, {"embed": model.embed}, "embed", "embedding", out, ENCODER, meta, args, info,
           golden_rows, ["vocab.txt", "tokenizer.json"])
    return meta


def encoder_recall(model, A, B, val_idx, kinds, max_len, group=100):
    """Recall@1 of a -> b among the b's of its chunk of `group` held-out pairs, overall and by kind."""
    hits, by_kind = [], {}
    for i in range(0, len(val_idx) - 1, group):
        idx = val_idx[i:i + group]
        if len(idx) < 2:
            break
        ea = model(A.batch(idx, max_len)).numpy()
        eb = model(B.batch(idx, max_len)).numpy()
        best = (ea @ eb.T).argmax(axis=1)
        for r, j in enumerate(idx):
            ok = float(best[r] == r)
            hits.append(ok)
            by_kind.setdefault(str(kinds[j]), []).append(ok)
    out = {k: float(np.mean(v)) for k, v in by_kind.items()}
    out["all"] = float(np.mean(hits)) if hits else 0.0
    return out


# ---------------------------------------------------------------------------------------------
# Tagger

def train_tagger(tf, args, info, tok, vocab, out):
    _, Tagger = make_modules(tf)
    rng = np.random.default_rng(args.seed)
    labels = read_lines(os.path.join(args.data, "labels.txt"))
    if not labels:
        raise SystemExit("labels.txt is empty: no article is cited often enough to tag")
    t0 = time.time()
    xs, ys = [], []
    for rec in read_jsonl(os.path.join(args.data, "tagger.jsonl")):
        xs.append(rec["x"] or [UNK])
        ys.append([y for y in rec["y"] if 0 <= y < len(labels)])
    if len(xs) < 2:
        raise SystemExit("tagger.jsonl holds %d examples; need at least 2" % len(xs))
    X = Ragged(xs)
    del xs
    train_idx, val_idx = split(len(X), args.val_fraction, rng)
    log("tagger: %d examples, %d labels, read in %.1fs; %d for training, %d held out"
        % (len(X), len(labels), time.time() - t0, len(train_idx), len(val_idx)))

    max_len = args.train_len or tok["max_len"]
    batch = min(args.tagger_batch, len(train_idx))
    steps = plan_steps(args, len(train_idx), batch)
    model = Tagger(len(vocab), args.dim, args.hidden, len(labels), rng)
    opt = tf.keras.optimizers.Adam(learning_rate=args.lr)

    def multi_hot(rows):
        y = np.zeros((len(rows), len(labels)), np.float32)
        for r, i in enumerate(rows):
            y[r, ys[i]] = 1.0
        return y

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.float32)])
    def step_fn(x, y):
        with tf.GradientTape() as tape:
            # Summed over labels, averaged over examples: a mean over ~1000 mostly-negative
            # labels would leave the few positives almost no gradient.
            loss = tf.reduce_mean(tf.reduce_sum(
                tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=model.logits(x)), axis=1))
        variables = model.trainable_variables
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    def gen():
        r = np.random.default_rng(args.seed + 1)
        for rows in batches(len(train_idx), batch, r):
            idx = train_idx[rows]
            yield X.batch(idx, max_len), multi_hot(idx)

    spec = (tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, len(labels)], tf.float32))
    log("tagger: training %d steps of %d examples (budget %ds)" % (steps, batch, args.tagger_budget))
    done, train_seconds, last_loss = train_steps("tagger", step_fn, dataset(tf, gen, spec), steps, args.tagger_budget, args.log_every)
    recall10, recall1 = tagger_recall(model, X, ys, val_idx, max_len)
    prior = prior_recall(ys, train_idx, val_idx, len(labels))
    log("tagger: val micro-recall@10 %.4f, @1 %.4f (most-cited-articles baseline @10 %.4f)"
        % (recall10, recall1, prior))

    golden_rows = pick_golden(X, val_idx if len(val_idx) >= 3 else train_idx, tok["max_len"])
    meta = {
        "name": TAGGER, "version": MODEL_VERSION, "dim": args.dim, "labels": len(labels),
        "hidden": args.hidden, "max_len": tok["max_len"], "vocab": len(vocab), "steps": done,
        "planned_steps": steps, "batch": batch,
        "epochs": round(done * batch / max(1, len(train_idx)), 3), "lr": args.lr, "train_len": max_len,
        "train_examples": int(len(train_idx)), "val_examples": int(len(val_idx)),
        "val_micro_recall_at_10": round(recall10, 4), "val_micro_recall_at_1": round(recall1, 4),
        "val_micro_recall_at_10_prior": round(prior, 4),
        "loss": round(last_loss or 0.0, 4), "train_seconds": round(train_seconds, 1),
        "signature": "tag", "input": "ids", "output": "scores",
    }
    export(tf, model, {"tag": model.tag}, "tag", "scores", out, TAGGER, meta, args, info,
           golden_rows, ["vocab.txt", "tokenizer.json", "labels.txt"])
    return meta


def tagger_recall(model, X, ys, val_idx, max_len, chunk=256):
    """Micro-averaged recall@10 and @1 over the held-out examples."""
    hit10 = hit1 = gold = 0
    for i in range(0, len(val_idx), chunk):
        idx = val_idx[i:i + chunk]
        scores = model.tag(X.batch(idx, max_len))["scores"].numpy()
        top = np.argsort(-scores, axis=1)[:, :10]
        for r, j in enumerate(idx):
            g = set(ys[j])
            gold += len(g)
            hit10 += len(g & set(top[r].tolist()))
            hit1 += len(g & {int(top[r, 0])})
    return (hit10 / gold if gold else 0.0), (hit1 / gold if gold else 0.0)


def prior_recall(ys, train_idx, val_idx, n_labels):
    """Micro-recall@10 of always answering the 10 labels most frequent in training."""
    counts = np.zeros(n_labels)
    for i in train_idx:
        counts[ys[i]] += 1
    top = set(np.argsort(-counts)[:10].tolist())
    gold = sum(len(ys[j]) for j in val_idx)
    hit = sum(len(set(ys[j]) & top) for j in val_idx)
    return hit / gold if gold else 0.0


# ---------------------------------------------------------------------------------------------
# Export

def pick_golden(R, rows, max_len):
    """Three inputs for golden.json: the shortest, a middling and the longest of a few rows."""
    cand = sorted(rows[:50].tolist(), key=lambda i: (len(R.get(i)), i))
    picks = [cand[0], cand[len(cand) // 2], cand[-1]] if len(cand) >= 3 else (cand * 3)[:3]
    return [R.get(i)[:max_len].tolist() for i in picks]


def export(tf, model, signatures, sig_name, out_name, out, name, meta, args, info, golden_inputs, files):
    """Save the SavedModel into OUT/name (via a temporary directory), with its files and golden.json."""
    final = os.path.join(out, name)
    tmp = final + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tf.saved_model.save(model, tmp, signatures=signatures)
    for f in files:
        shutil.copyfile(os.path.join(args.data, f), os.path.join(tmp, f))
    # Outputs from the saved model as reloaded, rows 0-padded to the longest (as a server batches them).
    loaded = tf.saved_model.load(tmp)
    outputs = loaded.signatures[sig_name](ids=tf.constant(pad(golden_inputs)))[out_name].numpy()
    golden = {"signature": sig_name, "input": "ids", "output": out_name,
              "padding": "each input 0-padded to the longest, run as one batch",
              "inputs": golden_inputs, "outputs": outputs.astype(float).tolist()}
    with open(os.path.join(tmp, "golden.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f)
    meta = dict(meta, tensorflow=tf.__version__, seed=args.seed,
                source=info.get("source", ""), analyzer=info.get("analyzer", ""),
                created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    with open(os.path.join(tmp, "model.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2, ensure_ascii=False)
        f.write("\n")
    shutil.rmtree(final, ignore_errors=True)
    os.rename(tmp, final)
    log("%s: saved %s" % (name, final))


def configure_threads(tf, threads):
    n = threads or os.cpu_count() or 1
    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(min(2, n))
    except RuntimeError:
        pass  # TensorFlow already started in this process (pytest runs several scripts' tests)
    return n


def main(argv=None):
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    t0 = time.time()
    import tensorflow as tf

    n = configure_threads(tf, args.threads)
    tf.random.set_seed(args.seed)
    log("tensorflow %s imported in %.1fs; %d threads" % (tf.__version__, time.time() - t0, n))
    info, tok, vocab = load_export(args.data)
    os.makedirs(args.out, exist_ok=True)
    results = {}
    for m in args.models:
        t = time.time()
        results[m] = (train_encoder if m == ENCODER else train_tagger)(tf, args, info, tok, vocab, args.out)
        log("%s: done in %.1fs" % (m, time.time() - t))
    log("total %.1fs" % (time.time() - t0))
    return results


if __name__ == "__main__":
    sys.exit(0 if main() is not None else 1)
