#!/usr/bin/python3
"""Fine-tuning speed of PyTorch (CPU) for comparison with qlora4j: a LoRA linear
layer, the same layer fully fine-tuned, and one training step of a small
Llama-architecture decoder.  Prints one JSON line per (case, threads) on
stdout, {"peer": "torch", "case": ..., "threads": ..., "ms": ..., <params>},
where ms is milliseconds per iteration (best batch); details go to stderr.

Cases:
  lora_layer   y = x W^T + s (x A^T) B^T, x [512, d] requiring grad (as inside a
               network), W [d, d] frozen, A [r, d] and B [d, r] trainable,
               loss = (y * g).sum() for a fixed random g, backward, grads set to
               None.  d in {1024, 4096}, r in {4, 8, 16, 32, 64}; base "f32", and
               for d=4096 also base "bf16": W stored as bfloat16 and the base
               product run as (x.to(bf16) @ W.t()).float(), the way a bf16
               frozen base runs on CPU.
  full_layer   the same layer without LoRA and with W trainable (dW computed).
  train_step   one step of a 4-layer Llama (hidden 256, 4 heads of 64, 4 kv
               heads, intermediate 688, vocab 256, RMSNorm eps 1e-5, rotate-half
               RoPE theta 10000, explicit causal softmax attention, SwiGLU,
               untied lm_head) on 8 x 128 random tokens: cross-entropy,
               backward, AdamW(lr 1e-3) step, zero_grad.  variant "lora" (r 8,
               alpha 16 on q_proj and v_proj, base frozen, only adapters in the
               optimizer) or "full" (every weight trainable).

Each threads setting runs in its own subprocess, because BLAS/OpenMP thread
pools are sized once per process and the environment must be set before torch
is imported.

    /usr/bin/python3 benchmarks/compare/lora_peers.py [--quick] [--threads 1,2] [--cases lora_layer,full_layer,train_step]
"""
import argparse
import json
import math
import os
import subprocess
import sys

from peer_timing import cpu_busy_fraction, peer_env, time_batches

ALL_CASES = ["lora_layer", "full_layer", "train_step"]
M = 512                      # rows of x (tokens in a micro-batch)
DIMS = [1024, 4096]
RANKS = [4, 8, 16, 32, 64]
QUICK_RANKS = [8, 64]


# ---------------------------------------------------------------- worker side

def time_best(fn, quick, warm_s=None):
    """Milliseconds per call: (best batch, worst batch, reps per batch, other processes' CPU share)."""
    best, worst, reps, others = time_batches(fn, quick, warm_s)
    return best * 1e3, worst * 1e3, reps, others


def make_layer(torch, d, r, base, gen):
    """One iteration of a LoRA (r > 0) or fully fine-tuned (r == 0) linear layer."""
    x = torch.randn(M, d, generator=gen).requires_grad_(True)
    g = torch.randn(M, d, generator=gen)
    w = torch.randn(d, d, generator=gen) / math.sqrt(d)
    if r == 0:
        w.requires_grad_(True)
        params = (x, w)

        def step():
            y = x @ w.t()
            (y * g).sum().backward()
            for p in params:
                p.grad = None
        return step

    s = 16.0 / r  # alpha 16
    a = (torch.rand(r, d, generator=gen) * 2 - 1).div_(math.sqrt(d)).requires_grad_(True)
    b = (torch.randn(d, r, generator=gen) * 0.01).requires_grad_(True)  # nonzero: no special case
    params = (x, a, b)
    if base == "bf16":
        w = w.to(torch.bfloat16)

        def base_fn():
            return (x.to(torch.bfloat16) @ w.t()).float()
    else:
        def base_fn():
            return x @ w.t()

    def step():
        y = base_fn() + s * ((x @ a.t()) @ b.t())
        (y * g).sum().backward()
        for p in params:
            p.grad = None
    return step


# ----- a small Llama in plain torch

def build_llama(torch, lora, gen, layers=4, hidden=256, heads=4, kv_heads=4, inter=688, vocab=256,
                eps=1e-5, theta=10000.0, seq=128, rank=8, alpha=16.0):
    nn = torch.nn
    F = torch.nn.functional
    head_dim = hidden // heads

    def init_linear(out_f, in_f):
        return nn.Parameter(torch.randn(out_f, in_f, generator=gen) / math.sqrt(in_f))

    class Linear(nn.Module):
        def __init__(self, in_f, out_f, adapter):
            super().__init__()
            self.weight = init_linear(out_f, in_f)
            self.adapter = adapter
            if adapter:  # PEFT-style: A kaiming-uniform, B zero, scale alpha / r
                self.lora_A = nn.Parameter((torch.rand(rank, in_f, generator=gen) * 2 - 1) / math.sqrt(in_f))
                self.lora_B = nn.Parameter(torch.zeros(out_f, rank))
                self.scale = alpha / rank

        def forward(self, x):
            y = F.linear(x, self.weight)
            if self.adapter:
                y = y + self.scale * F.linear(F.linear(x, self.lora_A), self.lora_B)
            return y

    class RMSNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(hidden))

        def forward(self, x):
            return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    inv_freq = 1.0 / theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
    freqs = torch.outer(torch.arange(seq, dtype=torch.float32), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()                                    # [T, head_dim]
    mask = torch.triu(torch.full((seq, seq), float("-inf")), diagonal=1)

    def rotate_half(t):
        t1, t2 = t[..., :head_dim // 2], t[..., head_dim // 2:]
        return torch.cat((-t2, t1), dim=-1)

    def rope(t):
        return t * cos + rotate_half(t) * sin

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.input_layernorm = RMSNorm()
            self.q_proj = Linear(hidden, heads * head_dim, lora)
            self.k_proj = Linear(hidden, kv_heads * head_dim, False)
            self.v_proj = Linear(hidden, kv_heads * head_dim, lora)
            self.o_proj = Linear(heads * head_dim, hidden, False)
            self.post_attention_layernorm = RMSNorm()
            self.gate_proj = Linear(hidden, inter, False)
            self.up_proj = Linear(hidden, inter, False)
            self.down_proj = Linear(inter, hidden, False)

        def forward(self, x):
            bsz, t, _ = x.shape
            h = self.input_layernorm(x)
            q = self.q_proj(h).view(bsz, t, heads, head_dim).transpose(1, 2)
            k = self.k_proj(h).view(bsz, t, kv_heads, head_dim).transpose(1, 2)
            v = self.v_proj(h).view(bsz, t, kv_heads, head_dim).transpose(1, 2)
            q, k = rope(q), rope(k)
            if kv_heads != heads:
                k = k.repeat_interleave(heads // kv_heads, dim=1)
                v = v.repeat_interleave(heads // kv_heads, dim=1)
            scores = q @ k.transpose(-2, -1) / math.sqrt(head_dim) + mask
            att = torch.softmax(scores, dim=-1) @ v                   # [B, H, T, hd]
            x = x + self.o_proj(att.transpose(1, 2).reshape(bsz, t, heads * head_dim))
            h = self.post_attention_layernorm(x)
            return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))

    class Llama(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed_tokens = nn.Parameter(torch.randn(vocab, hidden, generator=gen))
            self.layers = nn.ModuleList([Layer() for _ in range(layers)])
            self.norm = RMSNorm()
            self.lm_head = Linear(hidden, vocab, False)

        def forward(self, tokens):
            x = F.embedding(tokens, self.embed_tokens)
            for layer in self.layers:
                x = layer(x)
            return self.lm_head(self.norm(x))

    model = Llama()
    if lora:
        for name, p in model.named_parameters():
            p.requires_grad_("lora_" in name)
    return model


def make_train_step(torch, variant, gen, batch=8, seq=128, vocab=256):
    model = build_llama(torch, variant == "lora", gen, seq=seq, vocab=vocab)
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=1e-3)
    data = torch.randint(0, vocab, (batch, seq + 1), generator=gen)
    inputs, targets = data[:, :-1].contiguous(), data[:, 1:].contiguous()

    def step():
        logits = model(inputs)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    n_trainable = sum(p.numel() for p in trainable)
    n_total = sum(p.numel() for p in model.parameters())
    return step, n_trainable, n_total


def worker(args):
    import torch
    torch.set_num_threads(args.threads)
    print("# torch %s, %d threads (torch.get_num_threads), %d interop; OMP_NUM_THREADS=%s" % (
        torch.__version__, torch.get_num_threads(), torch.get_num_interop_threads(),
        os.environ.get("OMP_NUM_THREADS")), file=sys.stderr, flush=True)
    gen = torch.Generator().manual_seed(0)
    ranks = QUICK_RANKS if args.quick else RANKS

    def emit(case, params, fn, warm_s=None):
        best, worst, reps, others = time_best(fn, args.quick, warm_s)
        row = {"peer": "torch", "case": case, "threads": args.threads, "ms": round(best, 3)}
        row.update(params)
        row.update({"ms_worst_batch": round(worst, 3), "reps_per_batch": reps,
                    "other_cpu_load": round(others, 2)})
        print(json.dumps(row), flush=True)

    if "lora_layer" in args.cases:
        for d in DIMS:
            for base in (["f32", "bf16"] if d == 4096 else ["f32"]):
                for r in ranks:
                    emit("lora_layer", {"d": d, "r": r, "base": base, "m": M},
                         make_layer(torch, d, r, base, gen))
    if "full_layer" in args.cases:
        for d in DIMS:
            emit("full_layer", {"d": d, "base": "f32", "m": M}, make_layer(torch, d, 0, "f32", gen))
    if "train_step" in args.cases:
        for variant in ("lora", "full"):
            step, n_trainable, n_total = make_train_step(torch, variant, gen)
            emit("train_step", {"variant": variant, "layers": 4, "hidden": 256, "heads": 4,
                                "intermediate": 688, "vocab": 256, "batch": 8, "seq": 128,
                                "trainable_params": n_trainable, "total_params": n_total},
                 step, warm_s=0.2 if args.quick else 0.5)


# ---------------------------------------------------------------- parent side

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", default=",".join(ALL_CASES), help="comma list, default %(default)s")
    p.add_argument("--threads", default="1,2", help="comma list, default %(default)s")
    p.add_argument("--quick", action="store_true",
                   help="short timing and r in {%s} only, for smoke runs" % ",".join(map(str, QUICK_RANKS)))
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    args.cases = args.cases.split(",")
    for case in args.cases:
        if case not in ALL_CASES:
            p.error("unknown case %r (known: %s)" % (case, ", ".join(ALL_CASES)))

    if args.worker:
        args.threads = int(args.threads)
        return worker(args)

    failed = False
    for threads in args.threads.split(","):
        if int(threads) < 1:
            p.error("threads must be >= 1")
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--threads", threads,
               "--cases", ",".join(args.cases)] + (["--quick"] if args.quick else [])
        busy = cpu_busy_fraction()
        if busy > 0.1:
            print("# WARNING: other processes keep %.0f%% of the CPUs busy; threads=%s"
                  " will measure low (see other_cpu_load)" % (100 * busy, threads), file=sys.stderr)
        # stdout/stderr are inherited, so JSON lines stream straight through.
        rc = subprocess.call(cmd, env=peer_env(int(threads)))
        if rc != 0:
            print("# threads=%s failed with exit code %d" % (threads, rc), file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
