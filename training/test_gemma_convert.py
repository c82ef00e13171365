"""Tests of gemma_convert.py on a tiny random Gemma 3 (and, when LAWBOT_GEMMA_GGUF names the real
GGUF, the real conversion against the committed golden file).

    python -m pytest training/test_gemma_convert.py
"""

import json
import os
import sys
import tempfile

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gemma_convert as gc  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "models", "testdata", "generator_golden.json")


def tiny_config():
    # Seven layers so that one is global (5) and the ones after it local again; a window of 4 so
    # that the sequences below run past it; two query heads per key/value head.
    return gc.Config(vocab=300, layers=7, dim=32, ffn=48, heads=4, kv_heads=2, head_dim=16,
                     window=4)


def tiny_weights(cfg, seed=0):
    """Random weights named and shaped as read_gguf returns them (norms as 1 + w)."""
    rng = np.random.default_rng(seed)
    d, hd = cfg.dim, cfg.head_dim

    def mat(rows, cols):
        return rng.normal(0, 1 / np.sqrt(cols), (rows, cols)).astype(np.float32)

    def norm(n):
        return (1.0 + rng.normal(0, 0.3, n)).astype(np.float32)

    w = {"token_embd.weight": rng.normal(0, 1.0, (cfg.vocab, d)).astype(np.float32),
         "output_norm.weight": norm(d)}
    for i in range(cfg.layers):
        b = "blk.%d." % i
        w[b + "attn_q.weight"] = mat(cfg.heads * hd, d)
        w[b + "attn_k.weight"] = mat(cfg.kv_heads * hd, d)
        w[b + "attn_v.weight"] = mat(cfg.kv_heads * hd, d)
        w[b + "attn_output.weight"] = mat(d, cfg.heads * hd)
        w[b + "ffn_gate.weight"] = mat(cfg.ffn, d)
        w[b + "ffn_up.weight"] = mat(cfg.ffn, d)
        w[b + "ffn_down.weight"] = mat(d, cfg.ffn)
        for n in ["attn_norm", "post_attention_norm", "ffn_norm", "post_ffw_norm"]:
            w[b + n + ".weight"] = norm(d)
        w[b + "attn_q_norm.weight"] = norm(hd)
        w[b + "attn_k_norm.weight"] = norm(hd)
    return w


@pytest.fixture(scope="module")
def tf():
    import tensorflow
    return tensorflow


@pytest.fixture(scope="module")
def tiny(tf):
    cfg = tiny_config()
    w = tiny_weights(cfg)
    return cfg, w, gc.make_generator(tf, cfg, w, max_context=24)


IDS = [2, 17, 250, 3, 99, 42, 7, 7, 180, 33, 64, 5, 128, 21]


def test_decode_continues_prefill(tf, tiny):
    """Logits of a token decoded after a prefill equal those of a prefill over the whole sequence,
    at every length from one token to past the sliding window."""
    cfg, _, m = tiny
    for k in [1, 3, 4, 6]:
        out = m.prefill(tf.constant([IDS[:k]], tf.int32))
        cache = out["cache"]
        for n in range(k, len(IDS)):
            out = m.decode(tf.constant([[IDS[n]]], tf.int32), cache, tf.constant(n, tf.int32))
            cache = out["cache"]
            want = m.prefill(tf.constant([IDS[:n + 1]], tf.int32))
            np.testing.assert_allclose(out["logits"].numpy(), want["logits"].numpy(), rtol=1e-4, atol=1e-4,
                                       err_msg="prefill %d, decoded to %d" % (k, n + 1))
        np.testing.assert_allclose(cache.numpy()[:len(IDS)], want["cache"].numpy()[:len(IDS)], atol=1e-5)
        assert not cache.numpy()[len(IDS):].any()


def test_cache_shape_and_limits(tf, tiny):
    cfg, _, m = tiny
    out = m.prefill(tf.constant([IDS], tf.int32))
    assert out["logits"].shape == (1, cfg.vocab)
    assert out["cache"].shape == (24, cfg.layers, 2, cfg.kv_heads, cfg.head_dim)
    with pytest.raises(tf.errors.InvalidArgumentError):
        m.prefill(tf.constant([list(range(25))], tf.int32))
    with pytest.raises(tf.errors.InvalidArgumentError):
        m.decode(tf.constant([[1]], tf.int32), out["cache"], tf.constant(24, tf.int32))


def test_saved_model_signatures(tf, tiny):
    cfg, _, m = tiny
    with tempfile.TemporaryDirectory() as d:
        tf.saved_model.save(m, d, signatures={"prefill": m.prefill, "decode": m.decode})
        loaded = tf.saved_model.load(d)
        pre, dec = loaded.signatures["prefill"], loaded.signatures["decode"]
        assert set(pre.structured_outputs) == {"logits", "cache"}
        assert set(dec.structured_input_signature[1]) == {"token_id", "cache", "position"}
        got = gc.greedy(pre, dec, IDS[:5], 8)
        assert got == gc.greedy(m.prefill, m.decode, IDS[:5], 8)
        assert len(got) == 8
        sum1 = gc.saved_model_checksum(d)
        assert len(sum1) == 64 and sum1 == gc.saved_model_checksum(d)


def test_matches_keras_hub(tf, tiny):
    """The forward pass equals keras-hub's Gemma3Backbone on the same weights (where keras-hub is
    installed: the converter's --check-keras does the same on the real model)."""
    pytest.importorskip("keras_hub")
    cfg, w, m = tiny
    bb = gc.keras_backbone(cfg, w)
    ref = gc.keras_logits(bb, IDS)
    for n in [1, 4, 5, len(IDS)]:
        ours = m.prefill(tf.constant([IDS[:n]], tf.int32))["logits"].numpy()[0]
        np.testing.assert_allclose(ours, ref[n - 1], rtol=1e-4, atol=1e-4, err_msg="%d tokens" % n)
    assert gc.greedy(m.prefill, m.decode, IDS[:6], 8) == gc.keras_greedy(bb, IDS[:6], 8)


def tiny_vocab():
    tokens = ["<pad>", "<eos>", "<bos>", "<unk>"] + ["<0x%02X>" % b for b in range(256)]
    types = [gc.CONTROL] * 4 + [gc.BYTE] * 256
    for p in ["▁", "민", "법", "민법", "▁민법", "제", "조", "618", "6", "1", "8", "▁제", "a", "b", "ab", "\n\n"]:
        tokens.append(p)
        types.append(gc.USER_DEFINED if p == "\n\n" else gc.NORMAL)
    scores = [0.0] * 260 + [-float(i) for i in range(len(tokens) - 260)]
    return tokens, scores, types


def test_tokenizer_model():
    spm = pytest.importorskip("sentencepiece")
    from sentencepiece import sentencepiece_model_pb2 as pb

    tokens, scores, types = tiny_vocab()
    cfg = tiny_config()
    data = gc.tokenizer_model(tokens, scores, types, cfg)
    mp = pb.ModelProto()
    mp.ParseFromString(data)
    assert [p.piece for p in mp.pieces] == tokens
    assert mp.pieces[cfg.unk].type == pb.ModelProto.SentencePiece.UNKNOWN  # fixed from CONTROL
    assert mp.pieces[4].type == pb.ModelProto.SentencePiece.BYTE
    assert mp.trainer_spec.model_type == pb.TrainerSpec.BPE and mp.trainer_spec.byte_fallback
    ns = mp.normalizer_spec
    assert ns.name == "identity" and not ns.add_dummy_prefix and not ns.remove_extra_whitespaces
    sp = spm.SentencePieceProcessor(model_proto=data)
    assert sp.encode("민법") == [tokens.index("민법")]
    # A character outside the vocabulary falls back to its UTF-8 bytes.
    assert sp.encode("가") == [4 + b for b in "가".encode()]
    assert sp.decode(sp.encode(" 민법 제618조\n\nab")) == " 민법 제618조\n\nab"


def test_varint_negative():
    # int32 -1 (no pad id) is a ten-byte varint in protobuf.
    assert len(gc._varint(-1)) == 10


@pytest.mark.skipif(not os.environ.get("LAWBOT_GEMMA_GGUF"), reason="LAWBOT_GEMMA_GGUF not set")
def test_real_conversion_matches_golden():
    """The real GGUF converts, and the saved model's greedy tokens equal the committed golden file."""
    pytest.importorskip("sentencepiece")
    with tempfile.TemporaryDirectory() as out:
        meta, golden = gc.main(["--gguf", os.environ["LAWBOT_GEMMA_GGUF"], "--out", out, "--max-context", "256"])
        assert meta["source"]["sha256"] == gc.SHA256
        for f in ["saved_model.pb", "tokenizer.model", "model.json", "golden.json"]:
            assert os.path.exists(os.path.join(out, "generator", f)), f
    with open(GOLDEN, encoding="utf-8") as f:
        want = json.load(f)
    assert [(c["prompt"], c["ids"], c["greedy"]) for c in golden["cases"]] == \
        [(c["prompt"], c["ids"], c["greedy"]) for c in want["cases"]]


def test_bfloat16_prefill_close(tf, tiny):
    """The bfloat16 prefill's logits and cache stay near float32's, and decode continues from it."""
    cfg, w, m = tiny
    low = gc.make_generator(tf, cfg, w, max_context=24, prefill_dtype="bfloat16")
    want = m.prefill(tf.constant([IDS], tf.int32))
    got = low.prefill(tf.constant([IDS], tf.int32))
    scale = np.abs(want["logits"].numpy()).max()
    assert np.abs(got["logits"].numpy() - want["logits"].numpy()).max() < 0.05 * scale
    np.testing.assert_allclose(got["cache"].numpy(), want["cache"].numpy(), atol=0.1)
    out = low.decode(tf.constant([[9]], tf.int32), got["cache"], tf.constant(len(IDS), tf.int32))
    assert out["logits"].shape == (1, cfg.vocab)
