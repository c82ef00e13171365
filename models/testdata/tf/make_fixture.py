"""Tiny SavedModels for the Go TensorFlow serving tests (models/tf_test.go, build tag tensorflow).

    python make_fixture.py OUT_DIR

writes, following the signatures of training/train.py (see the issue 6 contract):
  OUT_DIR/encoder/   signature "embed": ids int32 [None, None] (0-padded) -> "embedding" float32
                     [None, 16]: embedding table -> masked mean -> L2 norm (plus "serving_default")
  OUT_DIR/tagger/    signature "tag": ids int32 [None, None] -> "scores" float32 [None, 5]:
                     embedding table -> masked mean -> dense -> sigmoid; labels.txt
  OUT_DIR/bad_dtype/ signature "embed" whose "ids" is float32 (load must refuse it)
each with model.json and golden.json {"inputs": [[ids]...], "outputs": [[floats]...]}, the outputs
computed by Python on the reloaded SavedModel, one unpadded input at a time.
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

VOCAB, DIM, LABELS, MAX_LEN = 64, 16, 5, 32
IDS = tf.TensorSpec([None, None], tf.int32, name="ids")


def masked_mean(table, ids):
    e = tf.nn.embedding_lookup(table, ids)  # [B, L, D]
    mask = tf.cast(tf.not_equal(ids, 0), tf.float32)[:, :, None]
    return tf.reduce_sum(e * mask, axis=1) / tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)


class Encoder(tf.Module):
    def __init__(self, rng):
        super().__init__()
        self.table = tf.Variable(rng.standard_normal((VOCAB, DIM)).astype(np.float32), name="table")

    @tf.function(input_signature=[IDS])
    def embed(self, ids):
        return {"embedding": tf.math.l2_normalize(masked_mean(self.table, ids), axis=-1)}


class Tagger(tf.Module):
    def __init__(self, rng):
        super().__init__()
        self.table = tf.Variable(rng.standard_normal((VOCAB, DIM)).astype(np.float32), name="table")
        self.w = tf.Variable(rng.standard_normal((DIM, LABELS)).astype(np.float32), name="w")
        self.b = tf.Variable(rng.standard_normal((LABELS,)).astype(np.float32), name="b")

    @tf.function(input_signature=[IDS])
    def tag(self, ids):
        return {"scores": tf.sigmoid(tf.matmul(masked_mean(self.table, ids), self.w) + self.b)}


class BadDtype(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32, name="ids")])
    def embed(self, ids):
        return {"embedding": tf.math.l2_normalize(ids, axis=-1)}


GOLDEN = [[5, 7, 9], [1], [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14], [63, 2], [17, 17, 17, 40]]


def write(out, name, module, signatures, key, extra):
    d = os.path.join(out, name)
    tf.saved_model.save(module, d, signatures=signatures)
    loaded = tf.saved_model.load(d)
    outputs = []
    if key:
        fn = loaded.signatures[key[0]]
        for ids in GOLDEN:
            outputs.append(fn(ids=tf.constant([ids], tf.int32))[key[1]].numpy()[0].tolist())
    with open(os.path.join(d, "golden.json"), "w") as f:
        json.dump({"inputs": GOLDEN, "outputs": outputs}, f)
    with open(os.path.join(d, "model.json"), "w") as f:
        json.dump(dict({"name": name, "version": 1, "max_len": MAX_LEN}, **extra), f)
    return d


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(1)
    enc = Encoder(rng)
    write(out, "encoder", enc, {"embed": enc.embed, "serving_default": enc.embed},
          ("embed", "embedding"), {"dim": DIM})
    tag = Tagger(rng)
    d = write(out, "tagger", tag, {"tag": tag.tag}, ("tag", "scores"), {"labels": LABELS})
    with open(os.path.join(d, "labels.txt"), "w") as f:
        f.write("".join("민법 제%d조\n" % (600 + i) for i in range(LABELS)))
    bad = BadDtype()
    write(out, "bad_dtype", bad, {"embed": bad.embed}, None, {"dim": DIM})
    print("fixture: tensorflow", tf.__version__, "->", out)


if __name__ == "__main__":
    main()
