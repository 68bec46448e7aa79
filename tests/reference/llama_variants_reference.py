#!/usr/bin/env python3
"""Tiny random Hugging Face checkpoints of every Llama-shaped config variant qlora4j implements,
with the logits transformers computes for them, in float64 numpy.

Written from transformers' published semantics (modeling_llama / modeling_qwen2 / modeling_mistral
and the rope-initialisation functions of modeling_rope_utils), not from qlora4j:
  RMSNorm x / sqrt(mean(x^2) + eps) * w; q, k, v, o projections x W^T (+ b); rotate-half RoPE with
  inv_freq = theta^(-2i/d) scaled by the rope type (linear: / factor; dynamic: base raised to
  theta * (factor * L / max_pos - (factor - 1))^(d / (d - 2)), L = max(sequence length, max_pos);
  llama3: wavelengths above original_max/low_freq_factor divided by factor, below
  original_max/high_freq_factor kept, between blended with s = (original_max / wavelength - low) /
  (high - low)); grouped-query causal softmax attention scaled by 1/sqrt(head_dim); SwiGLU MLP
  down(silu(gate(x)) * up(x)) (+ biases); final norm; lm_head or the tied embedding table.

Variants (one folder each under --out): llama2 (MHA, theta 1e4), llama3_gqa (GQA, theta 5e5),
llama3_scaling (rope llama3 with original_max_position_embeddings 512 and head_dim 8, so the four
frequencies fall below, between and above the two wavelength thresholds), linear_scaling,
dynamic_scaling (max_position_embeddings 16 < the 24-token context, so the base grows), tied,
head_dim (head_dim 12 with hidden 32 and 4 heads), biases (Llama attention_bias and mlp_bias),
qwen2 (q/k/v biases), bf16_sharded (BF16 weights in two shards with model.safetensors.index.json),
rope_parameters (transformers v5's spelling, theta inside it).

Each folder holds config.json, the weights, and expected.safetensors: "ids" (I32 [1, T]) and
"logits" (F32 [T, vocab], computed in float64 from the stored weights and rounded once).

Usage: python3 tests/reference/llama_variants_reference.py --out autograd/src/test/resources/hf-variants
"""
import argparse
import json
import math
import os

import numpy as np

import safetensors_file

LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def base_config(**over):
    c = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 32, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 4, "intermediate_size": 48, "vocab_size": 61,
         "hidden_act": "silu", "max_position_embeddings": 2048, "rope_theta": 10000.0, "rms_norm_eps": 1e-5,
         "tie_word_embeddings": False, "rope_scaling": None, "attention_bias": False, "mlp_bias": False,
         "torch_dtype": "float32"}
    c.update(over)
    return c


VARIANTS = {
    "llama2": (base_config(), 24),
    "llama3_gqa": (base_config(num_key_value_heads=2, rope_theta=500000.0), 24),
    "llama3_scaling": (base_config(num_key_value_heads=2, rope_theta=500000.0, max_position_embeddings=131072,
                                   rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                 "high_freq_factor": 4.0, "original_max_position_embeddings": 512}), 40),
    "linear_scaling": (base_config(rope_scaling={"type": "linear", "factor": 2.0}), 24),
    "dynamic_scaling": (base_config(max_position_embeddings=16, rope_scaling={"rope_type": "dynamic", "factor": 2.0}), 24),
    "tied": (base_config(tie_word_embeddings=True), 24),
    "head_dim": (base_config(head_dim=12, num_key_value_heads=2), 24),
    "biases": (base_config(attention_bias=True, mlp_bias=True), 24),
    "qwen2": (dict(base_config(architectures=["Qwen2ForCausalLM"], model_type="qwen2", num_key_value_heads=2,
                               rope_theta=1000000.0, sliding_window=4096, use_sliding_window=False)), 24),
    "bf16_sharded": (base_config(num_key_value_heads=2, torch_dtype="bfloat16"), 24),
    "rope_parameters": ({k: v for k, v in base_config(num_key_value_heads=2).items() if k not in ("rope_theta", "rope_scaling")}
                        | {"rope_parameters": {"rope_type": "linear", "factor": 4.0, "rope_theta": 50000.0}}, 24),
}
for name in ("qwen2",):
    for k in ("attention_bias", "mlp_bias"):
        VARIANTS[name][0].pop(k)


def bf16_round(a):
    """float32 -> bf16 bits, round to nearest even (no NaNs here)."""
    bits = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def bf16_value(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def head_dim(c):
    return c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]


def rope_spec(c):
    scaling = c.get("rope_parameters") or c.get("rope_scaling")
    theta = c.get("rope_theta", 10000.0)
    if scaling and "rope_theta" in scaling:
        theta = scaling["rope_theta"]
    kind = None if scaling is None else scaling.get("rope_type", scaling.get("type"))
    return theta, kind, scaling


def inv_freq(c, seq_len):
    d = head_dim(c)
    theta, kind, s = rope_spec(c)
    idx = np.arange(0, d, 2, dtype=np.float64)
    if kind == "dynamic":
        max_pos = c["max_position_embeddings"]
        length = max(seq_len, max_pos)
        theta = theta * ((s["factor"] * length / max_pos) - (s["factor"] - 1)) ** (d / (d - 2))
    f = 1.0 / theta ** (idx / d)
    if kind == "linear":
        f = f / s["factor"]
    elif kind == "llama3":
        factor, low, high, orig = s["factor"], s["low_freq_factor"], s["high_freq_factor"], s["original_max_position_embeddings"]
        wavelen = 2 * math.pi / f
        scaled = np.where(wavelen > orig / low, f / factor, f)
        smooth = (orig / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = (wavelen >= orig / high) & (wavelen <= orig / low)
        f = np.where(medium, smoothed, scaled)
    return f


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


def biases(c):
    qwen2 = c["model_type"] == "qwen2"
    attn = c.get("attention_bias", False)
    return {"q_proj": qwen2 or attn, "k_proj": qwen2 or attn, "v_proj": qwen2 or attn, "o_proj": (not qwen2) and attn,
            "gate_proj": c.get("mlp_bias", False), "up_proj": c.get("mlp_bias", False), "down_proj": c.get("mlp_bias", False)}


def shapes(c):
    d, h, kv, hd, i = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"], head_dim(c), c["intermediate_size"]
    return {"q_proj": (h * hd, d), "k_proj": (kv * hd, d), "v_proj": (kv * hd, d), "o_proj": (d, h * hd),
            "gate_proj": (i, d), "up_proj": (i, d), "down_proj": (d, i)}


def make_weights(c, rng):
    w = {}
    d, v = c["hidden_size"], c["vocab_size"]
    f32 = lambda a: a.astype(np.float32)
    w["model.embed_tokens.weight"] = f32(rng.standard_normal((v, d)))
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        w[p + "input_layernorm.weight"] = f32(1 + 0.1 * rng.standard_normal(d))
        w[p + "post_attention_layernorm.weight"] = f32(1 + 0.1 * rng.standard_normal(d))
        for m, (o, i) in shapes(c).items():
            group = "self_attn" if m in ("q_proj", "k_proj", "v_proj", "o_proj") else "mlp"
            w[f"{p}{group}.{m}.weight"] = f32(rng.standard_normal((o, i)) / math.sqrt(i))
            if biases(c)[m]:
                w[f"{p}{group}.{m}.bias"] = f32(0.5 * rng.standard_normal(o))
    w["model.norm.weight"] = f32(1 + 0.1 * rng.standard_normal(d))
    if not c["tie_word_embeddings"]:
        w["lm_head.weight"] = f32(rng.standard_normal((v, d)) / math.sqrt(d))
    return w


def forward(c, w, ids):
    t = len(ids)
    h, kv, hd = c["num_attention_heads"], c["num_key_value_heads"], head_dim(c)
    eps = c["rms_norm_eps"]
    x = w["model.embed_tokens.weight"][ids]
    f = inv_freq(c, t)
    ang = np.arange(t, dtype=np.float64)[:, None] * f[None, :]
    cos = np.cos(np.concatenate([ang, ang], axis=-1))
    sin = np.sin(np.concatenate([ang, ang], axis=-1))

    def lin(p, group, m, a):
        y = a @ w[f"{p}{group}.{m}.weight"].T
        b = w.get(f"{p}{group}.{m}.bias")
        return y if b is None else y + b

    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        n = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = lin(p, "self_attn", "q_proj", n).reshape(t, h, hd).transpose(1, 0, 2)
        k = lin(p, "self_attn", "k_proj", n).reshape(t, kv, hd).transpose(1, 0, 2)
        v = lin(p, "self_attn", "v_proj", n).reshape(t, kv, hd).transpose(1, 0, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = np.repeat(k, h // kv, axis=0)
        v = np.repeat(v, h // kv, axis=0)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
        s = s + np.triu(np.full((t, t), -np.inf), 1)
        s = np.exp(s - s.max(axis=-1, keepdims=True))
        s = s / s.sum(axis=-1, keepdims=True)
        att = (s @ v).transpose(1, 0, 2).reshape(t, h * hd)
        x = x + lin(p, "self_attn", "o_proj", att)
        n2 = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        g = lin(p, "mlp", "gate_proj", n2)
        x = x + lin(p, "mlp", "down_proj", g / (1 + np.exp(-g)) * lin(p, "mlp", "up_proj", n2))
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if c["tie_word_embeddings"] else w["lm_head.weight"]
    return x @ head.T


def write_variant(out, name, c, t, seed):
    rng = np.random.default_rng(seed)
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    w32 = make_weights(c, rng)
    bf16 = c["torch_dtype"] == "bfloat16"
    stored = {k: (("BF16", bf16_round(a)) if bf16 else ("F32", a)) for k, a in w32.items()}
    w = {k: bf16_value(a) if tag == "BF16" else a.astype(np.float64) for k, (tag, a) in stored.items()}
    names = sorted(stored, key=lambda n: n.encode())
    if name == "bf16_sharded":
        half = len(names) // 2
        shards = {"model-00001-of-00002.safetensors": names[:half], "model-00002-of-00002.safetensors": names[half:]}
        for file, part in shards.items():
            safetensors_file.write(os.path.join(d, file), [(n, stored[n][0], stored[n][1].shape, stored[n][1]) for n in part],
                                   {"format": "pt"})
        index = {"metadata": {}, "weight_map": {n: f for f, part in shards.items() for n in part}}
        with open(os.path.join(d, "model.safetensors.index.json"), "w") as fh:
            json.dump(index, fh, indent=2, sort_keys=True)
    else:
        safetensors_file.write(os.path.join(d, "model.safetensors"),
                               [(n, stored[n][0], stored[n][1].shape, stored[n][1]) for n in names], {"format": "pt"})
    with open(os.path.join(d, "config.json"), "w") as fh:
        json.dump(c, fh, indent=2)
    ids = rng.integers(0, c["vocab_size"], size=t)
    logits = forward(c, w, ids)
    safetensors_file.write(os.path.join(d, "expected.safetensors"),
                           [("ids", "I32", (1, t), ids.astype(np.int32).reshape(1, t)),
                            ("logits", "F32", logits.shape, logits.astype(np.float32))], {"format": "pt"})
    return logits


def self_check():
    # The llama3 frequencies of the scaling variant fall in all three bands.
    c = VARIANTS["llama3_scaling"][0]
    f = 1.0 / c["rope_theta"] ** (np.arange(0, head_dim(c), 2) / head_dim(c))
    wl = 2 * math.pi / f
    s = c["rope_scaling"]
    orig = s["original_max_position_embeddings"]
    assert (wl < orig / s["high_freq_factor"]).any() and (wl > orig / s["low_freq_factor"]).any()
    assert ((wl >= orig / s["high_freq_factor"]) & (wl <= orig / s["low_freq_factor"])).any()
    # Causality: logits of a prefix do not depend on later tokens.
    c = VARIANTS["llama2"][0]
    w = {k: a.astype(np.float64) for k, a in make_weights(c, np.random.default_rng(0)).items()}
    ids = np.arange(10) % c["vocab_size"]
    a = forward(c, w, ids)
    b = forward(c, w, np.concatenate([ids[:5], (ids[5:] + 7) % c["vocab_size"]]))
    assert np.allclose(a[:5], b[:5]) and not np.allclose(a[5:], b[5:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    self_check()
    for seed, (name, (c, t)) in enumerate(VARIANTS.items()):
        logits = write_variant(args.out, name, c, t, 1000 + seed)
        print(f"{name:16} T={t:3} logits |max| {np.abs(logits).max():.3f}")


if __name__ == "__main__":
    main()
