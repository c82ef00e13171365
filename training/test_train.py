"""Tests of train.py: a tiny synthetic export, a few training steps, the SavedModels reloaded.

    python -m pytest training/test_train.py     (or: python training/test_train.py)
"""

import json
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402

VOCAB = 60
LABELS = 5


def write_export(d, n=240, seed=0):
    """An export directory as lawbot train export writes it, with made-up ids."""
    rng = np.random.default_rng(seed)
    with open(os.path.join(d, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("[PAD]\n[UNK]\n" + "".join("tok%d\n" % i for i in range(VOCAB - 2)))
    with open(os.path.join(d, "tokenizer.json"), "w") as f:
        json.dump({"max_len": 16, "analyzer": "test"}, f)
    with open(os.path.join(d, "labels.txt"), "w", encoding="utf-8") as f:
        f.write("".join("민법 제%d조\n" % (600 + i) for i in range(LABELS)))

    def seq():
        return rng.integers(1, VOCAB, size=int(rng.integers(1, 20))).tolist()

    with open(os.path.join(d, "pairs.jsonl"), "w") as f:
        for i in range(n):
            a = seq()
            b = a[: max(1, len(a) // 2)] + seq()  # b shares tokens with a
            f.write(json.dumps({"a": a, "b": b, "kind": ["qa", "holding_summary"][i % 2]}) + "\n")
    with open(os.path.join(d, "tagger.jsonl"), "w") as f:
        for i in range(n):
            y = sorted({int(i % LABELS), int(rng.integers(0, LABELS))})
            f.write(json.dumps({"x": seq() + [2 + y[0]], "y": y}) + "\n")
    with open(os.path.join(d, "export.json"), "w") as f:
        json.dump({"source": "test", "analyzer": "test", "max_len": 16}, f)


def test_train_and_reload():
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as tmp:
        data, out = os.path.join(tmp, "export"), os.path.join(tmp, "out")
        os.makedirs(data)
        write_export(data)
        results = train.main(["--data", data, "--out", out, "--steps", "3", "--dim", "8",
                              "--hidden", "8", "--batch", "32", "--tagger-batch", "32", "--threads", "1"])
        assert set(results) == {"encoder", "tagger"}

        ids = tf.constant([[5, 7, 9, 0, 0], [3, 0, 0, 0, 0], [1, 2, 3, 4, 59]], tf.int32)

        enc_dir = os.path.join(out, "encoder")
        for f in ["saved_model.pb", "vocab.txt", "tokenizer.json", "model.json", "golden.json"]:
            assert os.path.exists(os.path.join(enc_dir, f)), f
        enc = tf.saved_model.load(enc_dir)
        assert "embed" in enc.signatures
        emb = enc.signatures["embed"](ids=ids)["embedding"].numpy()
        assert emb.shape == (3, 8) and emb.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
        # Padding is masked out: a row padded further embeds the same.
        longer = enc.signatures["embed"](ids=tf.constant([[5, 7, 9, 0, 0, 0, 0, 0]], tf.int32))["embedding"].numpy()
        np.testing.assert_allclose(longer[0], emb[0], atol=1e-6)
        # Ids outside the vocabulary count as [UNK] instead of failing.
        enc.signatures["embed"](ids=tf.constant([[VOCAB + 10, -3]], tf.int32))

        meta = json.load(open(os.path.join(enc_dir, "model.json")))
        assert meta["name"] == "encoder" and meta["version"] == 1 and meta["dim"] == 8
        assert meta["steps"] == 3 and "val_recall_at_1" in meta and meta["max_len"] == 16
        check_golden(tf, enc, enc_dir, "embed", "embedding")

        tag_dir = os.path.join(out, "tagger")
        assert os.path.exists(os.path.join(tag_dir, "labels.txt"))
        tag = tf.saved_model.load(tag_dir)
        assert "tag" in tag.signatures
        scores = tag.signatures["tag"](ids=ids)["scores"].numpy()
        assert scores.shape == (3, LABELS)
        assert ((scores > 0) & (scores < 1)).all()
        meta = json.load(open(os.path.join(tag_dir, "model.json")))
        assert meta["name"] == "tagger" and meta["labels"] == LABELS and "val_micro_recall_at_10" in meta
        check_golden(tf, tag, tag_dir, "tag", "scores")


def check_golden(tf, model, d, sig, out):
    golden = json.load(open(os.path.join(d, "golden.json")))
    assert len(golden["inputs"]) == 3 and len(golden["outputs"]) == 3
    got = model.signatures[sig](ids=tf.constant(train.pad(golden["inputs"])))[out].numpy()
    np.testing.assert_allclose(got, np.array(golden["outputs"]), atol=1e-6)


def test_parse_args_rejects_unknown_model():
    try:
        train.parse_args(["--data", "d", "--out", "o", "--models", "encoder,nope"])
    except SystemExit as e:
        assert e.code == 2
    else:
        raise AssertionError("unknown model accepted")


def test_ragged_batch_pads_and_cuts():
    r = train.Ragged([[1, 2, 3], [4], [5, 6, 7, 8, 9]])
    assert len(r) == 3
    np.testing.assert_array_equal(r.batch([0, 1], 10), [[1, 2, 3], [4, 0, 0]])
    np.testing.assert_array_equal(r.batch([2], 2), [[5, 6]])


if __name__ == "__main__":
    test_ragged_batch_pads_and_cuts()
    test_parse_args_rejects_unknown_model()
    test_train_and_reload()
    print("ok")
