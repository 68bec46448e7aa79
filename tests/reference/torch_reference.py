#!/usr/bin/env python3
"""Independent float64 PyTorch reference vectors for qlora4j's LoRA and Llama-decoder code.

Written from the architecture (the LoRA paper's y = x W^T + s (x A^T) B^T, and the Hugging Face
Llama decoder: RMSNorm, rotate-half rotary embedding, grouped-query causal attention, SwiGLU MLP,
untied lm_head, mean cross-entropy with ignore index -100). Nothing here is taken from qlora4j,
transformers or peft; torch is used only for tensor arithmetic, autograd and torch.optim.AdamW.

Files written to --out:
  lora_linear.safetensors  one LoRA linear layer, forward and backward, standard (alpha/r) and
                           rsLoRA (alpha/sqrt(r)) scaling.
  llama_lora.safetensors   a 2-layer Llama decoder with LoRA on q_proj and v_proj: weights with
                           Hugging Face / PEFT names, logits, loss, LoRA gradients, and the losses of
                           5 AdamW steps on the LoRA tensors.

Every random input is drawn in float64 from a seeded torch.Generator, rounded to float32 (which is
what gets stored), and converted back to float64 before use, so the stored inputs are exactly the
inputs of the float64 computation; only the outputs are rounded once, to float32, when stored.

Self-checks (always run): torch.autograd.gradcheck of the LoRA layer in float64 for both scalings,
the analytic gradients of the LoRA layer against the closed form, the batched decoder against a
per-head / per-position loop for every layer, rotate-half against a scalar pair rotation, the loss
against torch's cross_entropy, causality, a central difference on one element of every LoRA
tensor, and every file against a read-back.

Usage (from the repository root):
  /usr/bin/python3 tests/reference/torch_reference.py --out tests/src/test/resources/torch
"""

import argparse
import math
import os
import sys

import numpy as np
import torch

import safetensors_file

torch.set_default_dtype(torch.float64)
D = torch.float64

# ----------------------------------------------------------------------------------------------
# safetensors writer / reader (hand-written)
# ----------------------------------------------------------------------------------------------

def write_safetensors(path, tensors, metadata):
    """tensors: dict name -> (dtype tag, numpy array), written in name order."""
    safetensors_file.write(path, [(name, tensors[name][0], tensors[name][1].shape, tensors[name][1])
                                  for name in sorted(tensors, key=lambda n: n.encode())], metadata)


def f32(t):
    """float64 torch tensor -> float32 numpy array (one rounding)."""
    return t.detach().to(torch.float32).numpy()


def randn(gen, *shape, std=1.0, mean=0.0):
    """Seeded normal draw, rounded to f32 (the stored value), returned as float64."""
    t = torch.randn(*shape, generator=gen, dtype=D) * std + mean
    return t.to(torch.float32).to(D)


# ----------------------------------------------------------------------------------------------
# 1. LoRA linear layer
# ----------------------------------------------------------------------------------------------

def lora_linear(x, W, A, B, s):
    return x @ W.T + s * ((x @ A.T) @ B.T)


def make_lora_linear(out_dir):
    gen = torch.Generator().manual_seed(1234)
    N, T, IN, OUT, R, ALPHA = 3, 5, 24, 20, 6, 12.0
    x = randn(gen, N, T, IN)
    W = randn(gen, OUT, IN, std=1.0 / math.sqrt(IN))
    A = randn(gen, R, IN, std=0.2)
    B = randn(gen, OUT, R, std=0.2)
    dy = randn(gen, N, T, OUT)
    tensors = {"x": ("F32", f32(x)), "W": ("F32", f32(W)), "A": ("F32", f32(A)),
               "B": ("F32", f32(B)), "dy": ("F32", f32(dy))}
    scales = {"std": ALPHA / R, "rs": ALPHA / math.sqrt(R)}
    for tag, s in scales.items():
        xs, As, Bs = (t.clone().requires_grad_(True) for t in (x, A, B))
        y = lora_linear(xs, W, As, Bs, s)
        (y * dy).sum().backward()
        # closed form check: dx = dy W + s (dy B) A ; dB = s dy^T (x A^T) ; dA = s (dy B)^T x
        x2, dy2 = x.reshape(-1, IN), dy.reshape(-1, OUT)
        dx_cf = dy2 @ W + s * (dy2 @ B) @ A
        dA_cf = s * (dy2 @ B).T @ x2
        dB_cf = s * dy2.T @ (x2 @ A.T)
        assert torch.allclose(xs.grad.reshape(-1, IN), dx_cf, rtol=1e-12, atol=1e-12)
        assert torch.allclose(As.grad, dA_cf, rtol=1e-12, atol=1e-12)
        assert torch.allclose(Bs.grad, dB_cf, rtol=1e-12, atol=1e-12)
        # gradcheck in float64 (x, A, B and W all differentiable)
        ok = torch.autograd.gradcheck(
            lambda a, w, b, c: lora_linear(a, w, b, c, s),
            tuple(t.clone().requires_grad_(True) for t in (x, W, A, B)), eps=1e-6, atol=1e-7, rtol=1e-6)
        assert ok
        tensors["y_" + tag] = ("F32", f32(y))
        tensors["dx_" + tag] = ("F32", f32(xs.grad))
        tensors["dA_" + tag] = ("F32", f32(As.grad))
        tensors["dB_" + tag] = ("F32", f32(Bs.grad))
        assert float(As.grad.abs().min()) > 0 and float(Bs.grad.abs().min()) > 0
    meta = {"alpha": "12", "r": "6", "scaling_std": repr(scales["std"]),
            "scaling_rs": repr(scales["rs"]), "seed": "1234",
            "description": "y = x W^T + s (x A^T) B^T; grads of sum(y*dy); float64 torch stored as F32",
            "generator": "tests/reference/torch_reference.py"}
    path = os.path.join(out_dir, "lora_linear.safetensors")
    write_safetensors(path, tensors, meta)
    return path, tensors


# ----------------------------------------------------------------------------------------------
# 2. Llama decoder with LoRA on q_proj / v_proj
# ----------------------------------------------------------------------------------------------

CFG = dict(hidden=32, layers=2, heads=4, kv_heads=2, head_dim=8, inter=48, vocab=40,
           theta=10000.0, eps=1e-5, r=4, alpha=8.0, lr=1e-2, wd=0.01)
IGNORE = -100


def rmsnorm(x, w, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w


def rope_cos_sin(T, hd, theta):
    inv_freq = theta ** (-torch.arange(0, hd, 2, dtype=D) / hd)      # theta^(-2i/hd), i < hd/2
    ang = torch.arange(T, dtype=D)[:, None] * inv_freq[None, :]      # [T, hd/2]
    emb = torch.cat([ang, ang], dim=-1)                              # [T, hd]
    return emb.cos(), emb.sin()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def lora_name(l, proj, ab):
    return "base_model.model.model.layers.%d.self_attn.%s_proj.lora_%s.weight" % (l, proj, ab)


def proj(x, W, lora, s):
    y = x @ W.T
    if lora is not None:
        A, B = lora
        y = y + s * ((x @ A.T) @ B.T)
    return y


def attention_batched(q, k, v, cfg):
    """q [B,H,T,hd], k/v [B,KV,T,hd] (already rotated)."""
    rep = cfg["heads"] // cfg["kv_heads"]
    k = k.repeat_interleave(rep, dim=1)   # head j uses kv head j // rep
    v = v.repeat_interleave(rep, dim=1)
    T = q.shape[2]
    sc = q @ k.transpose(-1, -2) / math.sqrt(cfg["head_dim"])
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    sc = sc.masked_fill(mask, float("-inf"))
    return torch.softmax(sc, dim=-1) @ v


def attention_loop(q, k, v, cfg):
    """Independent per-(batch, head, position) loop with an explicit max-shifted softmax."""
    Bn, H, T, hd = q.shape
    rep = H // cfg["kv_heads"]
    out = torch.zeros_like(q)
    for b in range(Bn):
        for h in range(H):
            kv = h // rep
            for t in range(T):
                s = [float((q[b, h, t] * k[b, kv, u]).sum()) / math.sqrt(hd) for u in range(t + 1)]
                m = max(s)
                e = [math.exp(z - m) for z in s]
                z = sum(e)
                acc = torch.zeros(hd, dtype=D)
                for u in range(t + 1):
                    acc = acc + (e[u] / z) * v[b, kv, u]
                out[b, h, t] = acc
    return out


def decoder_layer(h, W, L, l, cfg, cos, sin, s, attn_fn):
    p = "model.layers.%d." % l
    Bn, T, _ = h.shape
    H, KV, hd = cfg["heads"], cfg["kv_heads"], cfg["head_dim"]
    n = rmsnorm(h, W[p + "input_layernorm.weight"], cfg["eps"])
    q = proj(n, W[p + "self_attn.q_proj.weight"], (L[lora_name(l, "q", "A")], L[lora_name(l, "q", "B")]), s)
    k = proj(n, W[p + "self_attn.k_proj.weight"], None, s)
    v = proj(n, W[p + "self_attn.v_proj.weight"], (L[lora_name(l, "v", "A")], L[lora_name(l, "v", "B")]), s)
    q = q.reshape(Bn, T, H, hd).transpose(1, 2)
    k = k.reshape(Bn, T, KV, hd).transpose(1, 2)
    v = v.reshape(Bn, T, KV, hd).transpose(1, 2)
    q = q * cos + rotate_half(q) * sin
    k = k * cos + rotate_half(k) * sin
    att = attn_fn(q, k, v, cfg).transpose(1, 2).reshape(Bn, T, H * hd)
    h = h + att @ W[p + "self_attn.o_proj.weight"].T
    n2 = rmsnorm(h, W[p + "post_attention_layernorm.weight"], cfg["eps"])
    g = n2 @ W[p + "mlp.gate_proj.weight"].T
    u = n2 @ W[p + "mlp.up_proj.weight"].T
    return h + (torch.nn.functional.silu(g) * u) @ W[p + "mlp.down_proj.weight"].T


def llama_forward(ids, W, L, cfg, attn_fn=attention_batched):
    s = cfg["alpha"] / cfg["r"]
    Bn, T = ids.shape
    cos, sin = rope_cos_sin(T, cfg["head_dim"], cfg["theta"])
    h = W["model.embed_tokens.weight"][ids.long()]
    for l in range(cfg["layers"]):
        h = decoder_layer(h, W, L, l, cfg, cos, sin, s, attn_fn)
    out = rmsnorm(h, W["model.norm.weight"], cfg["eps"])
    return (out @ W["lm_head.weight"].T).reshape(Bn * T, cfg["vocab"])


def ce_loss(logits, targets):
    """Mean cross-entropy over targets != -100, written out (log-sum-exp)."""
    keep = targets != IGNORE
    lg = logits[keep]
    tg = targets[keep].long()
    lse = torch.logsumexp(lg, dim=-1)
    return (lse - lg.gather(1, tg[:, None])[:, 0]).mean()


def make_llama(out_dir):
    cfg = CFG
    gen = torch.Generator().manual_seed(4321)
    Hd, I, V, H, KV, hd, r = cfg["hidden"], cfg["inter"], cfg["vocab"], cfg["heads"], cfg["kv_heads"], cfg["head_dim"], cfg["r"]
    W = {"model.embed_tokens.weight": randn(gen, V, Hd)}

    def lin(o, i):
        return randn(gen, o, i, std=1.0 / math.sqrt(i))

    def norm_w():
        return randn(gen, Hd, std=0.1, mean=1.0)

    for l in range(cfg["layers"]):
        p = "model.layers.%d." % l
        W[p + "input_layernorm.weight"] = norm_w()
        W[p + "self_attn.q_proj.weight"] = lin(H * hd, Hd)
        W[p + "self_attn.k_proj.weight"] = lin(KV * hd, Hd)
        W[p + "self_attn.v_proj.weight"] = lin(KV * hd, Hd)
        W[p + "self_attn.o_proj.weight"] = lin(Hd, H * hd)
        W[p + "post_attention_layernorm.weight"] = norm_w()
        W[p + "mlp.gate_proj.weight"] = lin(I, Hd)
        W[p + "mlp.up_proj.weight"] = lin(I, Hd)
        W[p + "mlp.down_proj.weight"] = lin(Hd, I)
    W["model.norm.weight"] = norm_w()
    W["lm_head.weight"] = lin(V, Hd)

    L = {}
    for l in range(cfg["layers"]):
        for pj, out_f in (("q", H * hd), ("v", KV * hd)):
            L[lora_name(l, pj, "A")] = randn(gen, r, Hd, std=0.1)
            L[lora_name(l, pj, "B")] = randn(gen, out_f, r, std=0.1)

    Bn, T = 2, 7
    ids = torch.randint(0, V, (Bn, T), generator=gen, dtype=torch.int64).to(torch.int32)
    targets = torch.randint(0, V, (Bn * T,), generator=gen, dtype=torch.int64)
    targets[3] = IGNORE
    targets[10] = IGNORE
    targets = targets.to(torch.int32)

    # forward + backward in float64
    Lp = {k: v.clone().requires_grad_(True) for k, v in L.items()}
    logits = llama_forward(ids, W, Lp, cfg)
    loss = ce_loss(logits, targets)
    loss.backward()

    # self-checks: torch's own cross-entropy; per-head/per-position attention loop
    ref_ce = torch.nn.functional.cross_entropy(logits.detach(), targets.long(), ignore_index=IGNORE)
    assert abs(float(ref_ce) - float(loss)) < 1e-12
    with torch.no_grad():
        logits_loop = llama_forward(ids, W, L, cfg, attn_fn=attention_loop)
    err = float((logits_loop - logits.detach()).abs().max())
    assert err < 1e-11, err
    # rotary: batched rotate-half form against a scalar pair rotation (i, i + hd/2)
    cos, sin = rope_cos_sin(T, hd, cfg["theta"])
    xr = randn(torch.Generator().manual_seed(7), T, hd)
    yr = xr * cos + rotate_half(xr) * sin
    for t in range(T):
        for i in range(hd // 2):
            a = t * cfg["theta"] ** (-2.0 * i / hd)
            x0, x1 = float(xr[t, i]), float(xr[t, i + hd // 2])
            assert abs(float(yr[t, i]) - (x0 * math.cos(a) - x1 * math.sin(a))) < 1e-13
            assert abs(float(yr[t, i + hd // 2]) - (x1 * math.cos(a) + x0 * math.sin(a))) < 1e-13
    # causality: changing the last token of sequence 0 must not change earlier logits
    ids2 = ids.clone()
    ids2[0, -1] = (ids2[0, -1] + 1) % V
    with torch.no_grad():
        lg2 = llama_forward(ids2, W, L, cfg)
    assert torch.equal(lg2[:T - 1], logits.detach()[:T - 1]) and not torch.equal(lg2[T - 1], logits.detach()[T - 1])
    # a finite-difference spot check on one LoRA element per tensor
    with torch.no_grad():
        for name in L:
            idx = (1, 2)
            h_ = 1e-6
            Lplus = dict(L); Lplus[name] = L[name].clone(); Lplus[name][idx] += h_
            Lminus = dict(L); Lminus[name] = L[name].clone(); Lminus[name][idx] -= h_
            fd = (float(ce_loss(llama_forward(ids, W, Lplus, cfg), targets))
                  - float(ce_loss(llama_forward(ids, W, Lminus, cfg), targets))) / (2 * h_)
            g = float(Lp[name].grad[idx])
            assert abs(fd - g) <= 1e-7 + 1e-5 * abs(g), (name, fd, g)
    for name in L:
        assert float(Lp[name].grad.abs().min()) > 0, name

    # 5 AdamW steps on the LoRA tensors only, float64
    P = {k: v.clone().requires_grad_(True) for k, v in L.items()}
    names = sorted(P)
    opt = torch.optim.AdamW([P[n] for n in names], lr=cfg["lr"], betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=cfg["wd"])
    losses = []
    for step in range(5):
        opt.zero_grad()
        lo = ce_loss(llama_forward(ids, W, P, cfg), targets)
        losses.append(float(lo))
        lo.backward()
        opt.step()
    with torch.no_grad():
        final_loss = float(ce_loss(llama_forward(ids, W, P, cfg), targets))
    assert abs(losses[0] - float(loss)) < 1e-12
    assert losses[-1] < losses[0]

    tensors = {k: ("F32", f32(v)) for k, v in W.items()}
    tensors.update({k: ("F32", f32(v)) for k, v in L.items()})
    tensors.update({"grad." + k: ("F32", f32(Lp[k].grad)) for k in L})
    tensors.update({"adamw5." + k: ("F32", f32(P[k])) for k in L})
    tensors["ids"] = ("I32", ids.numpy())
    tensors["targets"] = ("I32", targets.numpy())
    tensors["expected.logits"] = ("F32", f32(logits))
    tensors["expected.loss"] = ("F32", f32(loss.reshape(1)))
    tensors["expected.losses"] = ("F32", np.array(losses, dtype=np.float32))
    tensors["expected.final_loss"] = ("F32", np.array([final_loss], dtype=np.float32))
    meta = {"hidden_size": "32", "num_layers": "2", "num_heads": "4", "num_kv_heads": "2",
            "head_dim": "8", "intermediate_size": "48", "vocab_size": "40", "rope_theta": "10000.0",
            "rms_eps": "1e-05", "lora_r": "4", "lora_alpha": "8", "lora_targets": "q_proj,v_proj",
            "ignore_index": "-100", "lr": "0.01", "weight_decay": "0.01", "betas": "0.9,0.999",
            "adam_eps": "1e-08", "adamw_steps": "5", "tie_word_embeddings": "false",
            "hidden_act": "silu", "seed": "4321",
            "description": ("2-layer Llama decoder, LoRA on q_proj/v_proj (s = alpha/r); float64 torch "
                            "stored as F32; expected.losses = loss before each of 5 AdamW updates; "
                            "adamw5.* = LoRA tensors after the 5 updates; expected.final_loss = loss after"),
            "generator": "tests/reference/torch_reference.py"}
    path = os.path.join(out_dir, "llama_lora.safetensors")
    write_safetensors(path, tensors, meta)
    return path, tensors, dict(loss=float(loss), losses=losses, final_loss=final_loss, loop_err=err)


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "src", "test", "resources", "torch"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    p1, t1 = make_lora_linear(args.out)
    p2, t2, info = make_llama(args.out)
    for path, tensors in ((p1, t1), (p2, t2)):
        _, back, _ = safetensors_file.read(path)
        assert set(back) == set(tensors)
        for k, (_, arr) in tensors.items():
            assert np.array_equal(back[k], np.asarray(arr, dtype=back[k].dtype)), k
        print("%s: %d tensors, %d bytes" % (path, len(tensors), os.path.getsize(path)))
    print("loss %.9g  losses %s  final %.9g  loop-vs-batched max err %.3g"
          % (info["loss"], ["%.9g" % v for v in info["losses"]], info["final_loss"], info["loop_err"]))
    print("self-checks passed")


if __name__ == "__main__":
    sys.exit(main())
