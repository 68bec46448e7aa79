#!/usr/bin/env python3
"""PyTorch peers for qlora4j's CUDA benchmarks: the same work in plain PyTorch on the same GPU, so
gpu-check/check.sh can put a ratio beside each benchmark from one run.

    python3 torch_peers.py [--json OUT.json] [--only matmul,copy,dequant,lora,train] [shape options]
    python3 torch_peers.py --dry-run      # CPU, tiny shapes: checks the NF4 math, runs every peer once

What is measured (defaults; every shape is an option):
  matmul   bf16 x·Wᵀ, x [M, K], W [N, K], bf16 out (cuBLAS through torch.matmul, fp32 accumulation):
           M×N×K = 8192³, and the LLM shapes 4096 tokens × 4096 × 4096, × 14336 out × 4096 in and
           × 4096 out × 14336 in. TFLOP/s = 2MNK / time.
  copy     y.copy_(x) of a 1 GiB tensor on the device; GB/s counts bytes read + written (2 GiB).
  dequant  NF4 with double quantization to bf16 in plain PyTorch ops (no bitsandbytes): the nibbles
           unpacked high first, looked up in the 16-entry NF4 table by indexing; block absmax
           (blocksize 64) rebuilt from its 8-bit code through bitsandbytes' dynamic map × the nested
           absmax (blocksize 256) + the offset, all in f32; value = code × absmax in f32, then
           rounded to bf16. A 4096×14336 weight. GB/s counts packed codes, absmax codes and nested
           absmax read + bf16 written.
  lora     the QLoRA LoraLinear layer, forward + backward: x [4096, 4096] bf16 requiring grad, frozen
           NF4 weight [4096 out, 4096 in] dequantized to bf16 inside forward and dequantized again in
           backward for dx (as bitsandbytes' MatMul4Bit does; --lora-dequant save keeps the forward's
           copy instead), y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ with A [16, 4096] and B [4096, 16] trainable fp32
           parameters cast to bf16 explicitly in forward (what autocast does; their grads arrive in
           fp32), s = alpha / r = 2. backward(dy) for a fixed random dy; grads set to None each time.
  train    one LoRA training step of a Llama-architecture model in plain PyTorch: 4 layers, hidden
           512, 8 heads, 2 KV heads, MLP 1376, vocab 8000, batch 8 × 256 tokens; frozen base
           linears NF4 (as above; --llama-base bf16 for plain bf16), frozen embedding, norms and
           lm_head in bf16 (QLoRA leaves those unquantized); LoRA r 8, alpha 16 on q_proj and
           v_proj; bf16 activations, RMSNorm and softmax statistics in f32, attention through
           F.scaled_dot_product_attention (causal) when the torch has it; cross-entropy on f32
           logits, backward, AdamW (lr 1e-3, torch's default implementation), zero_grad.
           Reported as tokens/s = batch·seq / step time.
Timing: CUDA events around a group of calls (as many as make one sample >= --min-sample-ms), after
--warmup calls; the median of --reps samples. Runs on the current CUDA device (CUDA_VISIBLE_DEVICES).
Progress and a line per result ("torch KIND PARAMS: TIME ...") go to stderr; the JSON to --json, or
to stdout without it.
"""
import argparse
import json
import math
import os
import statistics
import struct
import sys
import time

# bitsandbytes' NF4 table, as the f32 bit patterns it hard-codes (same as qlora4j's QuantType.NF4).
NF4_BITS = [
    0xBF800000, 0xBF3239B1, 0xBF066B30, 0xBECA32A0, 0xBE91A24D, 0xBE3D353F, 0xBDBA7871, 0x00000000,
    0x3DA2FAFF, 0x3E24CAE3, 0x3E7C04DD, 0x3EAD033A, 0x3EE1A4B8, 0x3F1007AB, 0x3F3913B3, 0x3F800000]
# bitsandbytes' signed 8-bit dynamic map, the nested code of double quantization (same as qlora4j's
# DynamicMap; bitsandbytes stores it in each weight's nested quant_map).
DYNAMIC_MAP_HEX = (
    "BF7E3333 BF7A999A BF770000 BF736666 BF6FCCCD BF6C3333 BF68999A BF650000 "
    "BF616666 BF5DCCCD BF5A3333 BF56999A BF530000 BF4F6666 BF4BCCCD BF483333 "
    "BF44999A BF410000 BF3D6666 BF39CCCD BF363334 BF32999A BF2F0000 BF2B6666 "
    "BF27CCCD BF243334 BF20999A BF1D0000 BF196666 BF15CCCD BF123334 BF0E999A "
    "BF0B0000 BF076666 BF03CCCC BF003333 BEF93332 BEF20000 BEEACCCC BEE3999A "
    "BEDC6666 BED53333 BECE0000 BEC6CCCC BEBF999A BEB86666 BEB13333 BEAA0000 "
    "BEA2CCCC BE9B999A BE946666 BE8D3334 BE860000 BE7D9999 BE6F3333 BE60CCCD "
    "BE526666 BE440000 BE35999A BE273333 BE18CCCD BE0A6666 BDF80000 BDDB3334 "
    "BDC9EB85 BDC428F7 BDBE6667 BDB8A3D7 BDB2E148 BDAD1EB8 BDA75C2A BDA1999A "
    "BD9BD70A BD96147B BD9051EB BD8A8F5D BD84CCCD BD7E147B BD728F5D BD670A3D "
    "BD5B851F BD500000 BD447AE1 BD38F5C3 BD2D70A3 BD21EB85 BD166667 BD0AE148 "
    "BCFEB852 BCE7AE15 BCD0A3D7 BCB9999A BCA28F5D BC8B851F BC68F5C3 BC3AE148 "
    "BC1F3B64 BC160418 BC0CCCCD BC039581 BBF4BC6A BBE24DD3 BBCFDF3B BBBD70A4 "
    "BBAB020D BB989374 BB8624DD BB676C8A BB428F5C BB1DB22D BAF1A9FC BAA7EF9D "
    "BA7765FF BA59E83E BA3C6A80 BA1EECC1 BA016F01 B9C7E283 B98CE705 B923D70B "
    "B8BA1F4B B88AEFB3 B8378034 B7B24206 B70205FF B65A1A94 B513A3B7 00000000 "
    "3513A3B7 365A1A94 370205FF 37B24206 38378034 388AEFB3 38BA1F4B 3923D70B "
    "398CE705 39C7E283 3A016F01 3A1EECC1 3A3C6A80 3A59E83E 3A7765FF 3AA7EF9D "
    "3AF1A9FC 3B1DB22D 3B428F5C 3B676C8A 3B8624DD 3B989374 3BAB020D 3BBD70A4 "
    "3BCFDF3B 3BE24DD3 3BF4BC6A 3C039581 3C0CCCCD 3C160418 3C1F3B64 3C3AE148 "
    "3C68F5C3 3C8B851F 3CA28F5D 3CB9999A 3CD0A3D7 3CE7AE15 3CFEB852 3D0AE148 "
    "3D166667 3D21EB85 3D2D70A3 3D38F5C3 3D447AE1 3D500000 3D5B851F 3D670A3D "
    "3D728F5D 3D7E147B 3D84CCCD 3D8A8F5D 3D9051EB 3D96147B 3D9BD70A 3DA1999A "
    "3DA75C2A 3DAD1EB8 3DB2E148 3DB8A3D7 3DBE6667 3DC428F7 3DC9EB85 3DDB3334 "
    "3DF80000 3E0A6666 3E18CCCD 3E273333 3E35999A 3E440000 3E526666 3E60CCCD "
    "3E6F3333 3E7D9999 3E860000 3E8D3334 3E946666 3E9B999A 3EA2CCCC 3EAA0000 "
    "3EB13333 3EB86666 3EBF999A 3EC6CCCC 3ECE0000 3ED53333 3EDC6666 3EE3999A "
    "3EEACCCC 3EF20000 3EF93332 3F003333 3F03CCCC 3F076666 3F0B0000 3F0E999A "
    "3F123334 3F15CCCD 3F196666 3F1D0000 3F20999A 3F243334 3F27CCCD 3F2B6666 "
    "3F2F0000 3F32999A 3F363334 3F39CCCD 3F3D6666 3F410000 3F44999A 3F483333 "
    "3F4BCCCD 3F4F6666 3F530000 3F56999A 3F5A3333 3F5DCCCD 3F616666 3F650000 "
    "3F68999A 3F6C3333 3F6FCCCD 3F736666 3F770000 3F7A999A 3F7E3333 3F800000")

ALL = ["matmul", "copy", "dequant", "lora", "train"]


def f32(bits):
    return struct.unpack("<f", struct.pack("<I", bits))[0]


NF4_VALUES = [f32(b) for b in NF4_BITS]
DYNAMIC_MAP = [f32(int(w, 16)) for w in DYNAMIC_MAP_HEX.split()]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def dims(text, count):
    parts = [int(p) for p in text.lower().split("x")]
    if len(parts) != count:
        raise argparse.ArgumentTypeError("%r: expected %d numbers joined by x" % (text, count))
    return parts


# ------------------------------------------------------------------------------------------ NF4

class Nf4Weight:
    """A frozen weight in bitsandbytes' NF4 + double-quant layout: packed codes (element 2j in the
    high nibble of byte j), one 8-bit absmax code per block of `blocksize`, one f32 nested absmax
    per `nested_blocksize` blocks, and the f32 offset (the mean of the absmax values)."""

    def __init__(self, torch, packed, qabsmax, nested_absmax, offset, shape, blocksize=64, nested_blocksize=256):
        self.torch = torch
        self.packed, self.qabsmax, self.nested_absmax, self.offset = packed, qabsmax, nested_absmax, offset
        self.shape, self.blocksize, self.nested_blocksize = tuple(shape), blocksize, nested_blocksize
        dev = packed.device
        self.code = torch.tensor(NF4_VALUES, dtype=torch.float32, device=dev)
        self.nested_code = torch.tensor(DYNAMIC_MAP, dtype=torch.float32, device=dev)
        self.index_dtype = index_dtype(torch, dev)

    @property
    def numel(self):
        return math.prod(self.shape)

    def bytes_read(self):
        return self.packed.numel() + self.qabsmax.numel() + 4 * self.nested_absmax.numel()

    def absmax(self):
        """fl32(fl32(nested_code[q] · nested_absmax[b / nested_blocksize]) + offset), per block."""
        s = self.nested_code[self.qabsmax.to(self.index_dtype)]
        nb, nbs = s.numel(), self.nested_blocksize
        if nb % nbs == 0:
            s = (s.view(-1, nbs) * self.nested_absmax.view(-1, 1)).view(-1)
        else:
            s = s * self.nested_absmax.repeat_interleave(nbs)[:nb]
        return s + self.offset

    def dequantize(self, dtype=None):
        """The weight as `dtype` (bf16 by default): fl32(code[nibble] · absmax[block]), rounded once."""
        torch = self.torch
        n, bs = self.numel, self.blocksize
        p = self.packed.view(-1)
        nibbles = torch.stack((p >> 4, p & 0xF), dim=1).view(-1)
        if nibbles.numel() != n:
            nibbles = nibbles[:n]
        values = self.code[nibbles.to(self.index_dtype)]
        absmax = self.absmax()
        if n % bs == 0:
            values = (values.view(-1, bs) * absmax.view(-1, 1)).view(-1)
        else:
            values = values * absmax.repeat_interleave(bs)[:n]
        return values.to(dtype or torch.bfloat16).view(self.shape)

    @classmethod
    def quantize(cls, torch, w, blocksize=64, nested_blocksize=256):
        """NF4 + double quant of w (nearest code by the midpoints of the tables). Makes realistic input
        for the peers; not meant to reproduce bitsandbytes' quantizer bit for bit."""
        dev = w.device
        flat = w.detach().float().reshape(-1)
        n = flat.numel()
        pad = (-n) % blocksize
        if pad:
            flat = torch.cat((flat, flat.new_zeros(pad)))
        blocks = flat.view(-1, blocksize)
        absmax = blocks.abs().amax(dim=1)
        scaled = blocks / absmax.clamp_min(1e-30).view(-1, 1)
        code = torch.tensor(NF4_VALUES, dtype=torch.float32, device=dev)
        codes = torch.searchsorted((code[1:] + code[:-1]) / 2, scaled.reshape(-1).contiguous())
        codes = codes[:n + (n % 2)].to(torch.uint8)
        packed = ((codes[0::2] << 4) | codes[1::2]).contiguous()
        offset = absmax.mean().view(1)
        centered = absmax - offset
        nb = centered.numel()
        npad = (-nb) % nested_blocksize
        if npad:
            centered = torch.cat((centered, centered.new_zeros(npad)))
        nblocks = centered.view(-1, nested_blocksize)
        nested_absmax = nblocks.abs().amax(dim=1)
        nscaled = nblocks / nested_absmax.clamp_min(1e-30).view(-1, 1)
        dmap = torch.tensor(DYNAMIC_MAP, dtype=torch.float32, device=dev)
        qabsmax = torch.searchsorted((dmap[1:] + dmap[:-1]) / 2, nscaled.reshape(-1).contiguous())[:nb]
        return cls(torch, packed, qabsmax.to(torch.uint8).contiguous(), nested_absmax.contiguous(), offset,
                   w.shape, blocksize, nested_blocksize)


def index_dtype(torch, dev):
    """int32 indices where this torch accepts them (fewer bytes to move), else int64."""
    try:
        torch.zeros(2, device=dev)[torch.zeros(1, dtype=torch.int32, device=dev)]
        return torch.int32
    except (IndexError, RuntimeError, TypeError):
        return torch.int64


def make_nf4_matmul(torch):
    class Nf4Matmul(torch.autograd.Function):
        """x·Wᵀ with W frozen in NF4: dequantized in forward, and in backward again for dx unless
        save=True keeps the forward's bf16 copy (bitsandbytes' MatMul4Bit dequantizes again)."""

        @staticmethod
        def forward(ctx, x, weight, save):
            w = weight.dequantize(x.dtype)
            ctx.weight, ctx.save = weight, save
            if save:
                ctx.save_for_backward(w)
            return x @ w.t()

        @staticmethod
        def backward(ctx, dy):
            if not ctx.needs_input_grad[0]:
                return None, None, None
            w = ctx.saved_tensors[0] if ctx.save else ctx.weight.dequantize(dy.dtype)
            return dy @ w, None, None

    return Nf4Matmul


# --------------------------------------------------------------------------------------- timing

class Timer:
    """Median milliseconds per call: CUDA events on a GPU, perf_counter (after a sync) on the CPU."""

    def __init__(self, torch, dev, warmup, reps, min_sample_ms):
        self.torch, self.cuda = torch, dev.type == "cuda"
        self.warmup, self.reps, self.min_sample_ms = warmup, reps, min_sample_ms

    def _sample(self, fn, calls):
        if self.cuda:
            start = self.torch.cuda.Event(enable_timing=True)
            end = self.torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(calls):
                fn()
            end.record()
            end.synchronize()
            return start.elapsed_time(end) / calls
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - t0) * 1e3 / calls

    def __call__(self, fn):
        for _ in range(self.warmup):
            fn()
        if self.cuda:
            self.torch.cuda.synchronize()
        one = self._sample(fn, 1)
        calls = max(1, min(1000, math.ceil(self.min_sample_ms / max(one, 1e-3))))
        samples = [self._sample(fn, calls) for _ in range(self.reps)]
        return statistics.median(samples), {"samples": self.reps, "calls_per_sample": calls,
                                            "min_ms": round(min(samples), 5), "max_ms": round(max(samples), 5)}


# ---------------------------------------------------------------------------------------- peers

def peer_matmul(torch, dev, timer, m, n, k):
    bf16 = torch.bfloat16
    x = torch.randn(m, k, device=dev, dtype=bf16)
    w = torch.randn(n, k, device=dev, dtype=bf16)
    out = torch.empty(m, n, device=dev, dtype=bf16)
    ms, stats = timer(lambda: torch.matmul(x, w.t(), out=out))
    return {"kind": "matmul_bf16", "params": {"m": m, "n": n, "k": k, "dtype": "BF16"},
            "work": {"flops": 2.0 * m * n * k}, "ms": ms, "stats": stats,
            "note": "torch.matmul(x, w.t()), x [m,k], w [n,k], bf16 in and out"}


def peer_copy(torch, dev, timer, nbytes):
    x = torch.empty(nbytes, device=dev, dtype=torch.uint8).fill_(1)
    y = torch.empty_like(x)
    ms, stats = timer(lambda: y.copy_(x))
    return {"kind": "copy", "params": {"bytes": nbytes}, "work": {"bytes": 2.0 * nbytes}, "ms": ms,
            "stats": stats, "note": "y.copy_(x) on the device; bytes = read + written"}


def peer_dequant(torch, dev, timer, rows, cols):
    w = torch.randn(rows, cols, device=dev) * 0.02
    q = Nf4Weight.quantize(torch, w)
    del w
    ms, stats = timer(lambda: q.dequantize(torch.bfloat16))
    moved = q.bytes_read() + 2 * q.numel
    return {"kind": "dequant_nf4", "params": {"rows": rows, "cols": cols, "blocksize": 64, "nested_blocksize": 256,
                                             "dtype": "BF16"},
            "work": {"bytes": float(moved)}, "ms": ms, "stats": stats,
            "note": "plain torch ops, double quant, f32 math then bf16; bytes = codes+scales read + bf16 written"}


def lora_layer(torch, dev, tokens, d_in, d_out, r, alpha, save):
    """(step, reference pieces): one forward+backward of the QLoRA layer."""
    bf16 = torch.bfloat16
    nf4_matmul = make_nf4_matmul(torch)
    q = Nf4Weight.quantize(torch, torch.randn(d_out, d_in, device=dev) / math.sqrt(d_in))
    x = torch.randn(tokens, d_in, device=dev, dtype=bf16).requires_grad_(True)
    a = ((torch.rand(r, d_in, device=dev) * 2 - 1) / math.sqrt(d_in)).requires_grad_(True)
    b = (torch.randn(d_out, r, device=dev) * 0.01).requires_grad_(True)  # nonzero, so dA is real work
    dy = torch.randn(tokens, d_out, device=dev, dtype=bf16)
    s = alpha / r

    def forward():
        return nf4_matmul.apply(x, q, save) + s * ((x @ a.to(bf16).t()) @ b.to(bf16).t())

    def step():
        forward().backward(dy)
        grads = (x.grad, a.grad, b.grad)
        x.grad = a.grad = b.grad = None
        return grads

    return step, (q, x, a, b, dy, s)


def peer_lora(torch, dev, timer, tokens, d_in, d_out, r, alpha, save):
    step, _ = lora_layer(torch, dev, tokens, d_in, d_out, r, alpha, save)
    ms, stats = timer(step)
    flops = 4.0 * tokens * d_in * d_out + 6.0 * tokens * r * (d_in + d_out)
    return {"kind": "lora_layer", "params": {"tokens": tokens, "in": d_in, "out": d_out, "r": r, "alpha": alpha,
                                            "base": "NF4", "dequant": "saved" if save else "recompute"},
            "work": {"flops": flops}, "ms": ms, "stats": stats,
            "note": "x bf16 requires grad; W NF4 dequantized in forward (and again in backward unless saved); "
                    "A, B fp32 params cast to bf16; flops = 4·T·in·out + 6·T·r·(in+out), dequant not counted"}


def build_llama(torch, dev, cfg, sdpa):
    nn, F = torch.nn, torch.nn.functional
    bf16 = torch.bfloat16
    hidden, heads, kv_heads = cfg["hidden"], cfg["heads"], cfg["kv_heads"]
    hd = hidden // heads
    eps, seq = 1e-5, cfg["seq"]
    nf4_matmul = make_nf4_matmul(torch)

    class Linear(nn.Module):
        def __init__(self, d_in, d_out, lora):
            super().__init__()
            w = torch.randn(d_out, d_in, device=dev) / math.sqrt(d_in)
            if cfg["base"] == "nf4":
                self.q = Nf4Weight.quantize(torch, w)
                self.register_buffer("w", None)
            else:
                self.q = None
                self.register_buffer("w", w.to(bf16))
            self.lora = lora
            if lora:  # PEFT's init: A Kaiming-uniform, B zero; scale alpha / r
                self.lora_A = nn.Parameter((torch.rand(cfg["r"], d_in, device=dev) * 2 - 1) / math.sqrt(d_in))
                self.lora_B = nn.Parameter(torch.zeros(d_out, cfg["r"], device=dev))
                self.scale = cfg["alpha"] / cfg["r"]

        def forward(self, x):
            y = nf4_matmul.apply(x, self.q, False) if self.q is not None else F.linear(x, self.w)
            if self.lora:
                y = y + self.scale * F.linear(F.linear(x, self.lora_A.to(bf16)), self.lora_B.to(bf16))
            return y

    class RMSNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("weight", torch.ones(hidden, device=dev, dtype=bf16))

        def forward(self, x):
            h = x.float()
            h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
            return self.weight * h.to(bf16)

    inv_freq = 1.0 / 10000.0 ** (torch.arange(0, hd, 2, device=dev, dtype=torch.float32) / hd)
    freqs = torch.outer(torch.arange(seq, device=dev, dtype=torch.float32), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos().to(bf16), emb.sin().to(bf16)
    mask = torch.triu(torch.full((seq, seq), float("-inf"), device=dev), diagonal=1)

    def rope(t):
        t1, t2 = t[..., :hd // 2], t[..., hd // 2:]
        return t * cos + torch.cat((-t2, t1), dim=-1) * sin

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            inter = cfg["intermediate"]
            self.input_layernorm = RMSNorm()
            self.q_proj = Linear(hidden, heads * hd, True)
            self.k_proj = Linear(hidden, kv_heads * hd, False)
            self.v_proj = Linear(hidden, kv_heads * hd, True)
            self.o_proj = Linear(heads * hd, hidden, False)
            self.post_attention_layernorm = RMSNorm()
            self.gate_proj = Linear(hidden, inter, False)
            self.up_proj = Linear(hidden, inter, False)
            self.down_proj = Linear(inter, hidden, False)

        def forward(self, x):
            bsz, t, _ = x.shape
            h = self.input_layernorm(x)
            q = rope(self.q_proj(h).view(bsz, t, heads, hd).transpose(1, 2))
            k = rope(self.k_proj(h).view(bsz, t, kv_heads, hd).transpose(1, 2))
            v = self.v_proj(h).view(bsz, t, kv_heads, hd).transpose(1, 2)
            if kv_heads != heads:
                k = k.repeat_interleave(heads // kv_heads, dim=1)
                v = v.repeat_interleave(heads // kv_heads, dim=1)
            if sdpa:
                att = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                scores = (q @ k.transpose(-2, -1)).float() / math.sqrt(hd) + mask
                att = torch.softmax(scores, dim=-1).to(bf16) @ v
            x = x + self.o_proj(att.transpose(1, 2).reshape(bsz, t, heads * hd))
            h = self.post_attention_layernorm(x)
            return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))

    class Llama(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("embed_tokens", torch.randn(cfg["vocab"], hidden, device=dev).to(bf16))
            self.layers = nn.ModuleList([Layer() for _ in range(cfg["layers"])])
            self.norm = RMSNorm()
            self.register_buffer("lm_head", (torch.randn(cfg["vocab"], hidden, device=dev) / math.sqrt(hidden)).to(bf16))

        def forward(self, tokens):
            x = F.embedding(tokens, self.embed_tokens)
            for layer in self.layers:
                x = layer(x)
            return F.linear(self.norm(x), self.lm_head).float()

    return Llama()


def train_step(torch, dev, cfg, sdpa):
    F = torch.nn.functional
    model = build_llama(torch, dev, cfg, sdpa)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg["lr"])
    data = torch.randint(0, cfg["vocab"], (cfg["batch"], cfg["seq"] + 1), device=dev)
    inputs, targets = data[:, :-1].contiguous(), data[:, 1:].contiguous()

    def step():
        logits = model(inputs)
        loss = F.cross_entropy(logits.view(-1, cfg["vocab"]), targets.view(-1))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    return step, model, params


def peer_train(torch, dev, timer, cfg, sdpa):
    step, model, params = train_step(torch, dev, cfg, sdpa)
    ms, stats = timer(step)
    tokens = cfg["batch"] * cfg["seq"]
    p = {k: cfg[k] for k in ("layers", "hidden", "heads", "kv_heads", "intermediate", "vocab", "batch", "seq", "r")}
    p.update(base=cfg["base"].upper(), attention="sdpa" if sdpa else "explicit")
    return {"kind": "train_step", "params": p, "work": {"tokens": float(tokens)}, "ms": ms, "stats": stats,
            "trainable_params": sum(x.numel() for x in params),
            "note": "LoRA r on q_proj, v_proj; bf16 compute; AdamW on the fp32 adapters; tokens/s = batch·seq / step"}


# ------------------------------------------------------------------------------ dry-run checks

def bf16_rne(x):
    """Python float (an f32 value) -> the f32 value of its bf16 rounding (nearest even)."""
    u = struct.unpack("<I", struct.pack("<f", x))[0]
    if (u & 0x7F800000) == 0x7F800000 and (u & 0x7FFFFF):
        return x
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return struct.unpack("<f", struct.pack("<I", u & 0xFFFFFFFF))[0]


def fl32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def dequant_by_loop(q):
    """Element by element, the way the format defines it; f32 rounding after every operation
    (a double result of one f32 multiply or add, rounded once to f32, is the f32 result)."""
    packed = q.packed.view(-1).tolist()
    qabsmax, nested = q.qabsmax.tolist(), q.nested_absmax.tolist()
    offset = float(q.offset.view(-1)[0])
    out = []
    for e in range(q.numel):
        byte = packed[e // 2]
        nibble = byte >> 4 if e % 2 == 0 else byte & 0xF
        b = e // q.blocksize
        scale = fl32(fl32(DYNAMIC_MAP[qabsmax[b]] * nested[b // q.nested_blocksize]) + offset)
        out.append(bf16_rne(fl32(NF4_VALUES[nibble] * scale)))
    return out


def read_safetensors(torch, path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    dtypes = {"F32": torch.float32, "U8": torch.uint8, "BF16": torch.bfloat16, "F16": torch.float16}
    tensors = {}
    for name, info in header.items():
        lo, hi = info["data_offsets"]
        buf = bytearray(raw[8 + n + lo:8 + n + hi])
        t = torch.frombuffer(buf, dtype=dtypes[info["dtype"]]) if hi > lo else torch.empty(0, dtype=dtypes[info["dtype"]])
        tensors[name] = t.reshape(info["shape"])
    return meta, tensors


def check_bnb_vectors(torch):
    """Dequantize qlora4j's bitsandbytes-format test vectors (written by tests/reference/bnb_reference.py,
    independent of this file) and compare bit for bit: NF4 + double quant, every block size."""
    here = os.path.dirname(os.path.abspath(__file__))
    dirs = [os.path.join(here, "lib", "test-classes", "tests", "bnb"),            # in gpu-check/
            os.path.join(here, "..", "tests", "src", "test", "resources", "bnb")]  # in the repository
    folder = next((d for d in dirs if os.path.isdir(d)), None)
    if folder is None:
        log("dry-run: no bitsandbytes test vectors beside this script; that check is left out")
        return 0
    files = sorted(f for f in os.listdir(folder) if f.startswith("nf4_") and f.endswith(".safetensors"))
    checked = 0
    for name in files:
        meta, t = read_safetensors(torch, os.path.join(folder, name))
        if meta.get("double_quant") != "true" or "dequant_dq" not in t:
            continue
        n = t["dequant_dq"].numel()
        q = Nf4Weight(torch, t["packed"].reshape(-1), t["qabsmax"].reshape(-1), t["nested_absmax"].reshape(-1),
                      t["offset"].reshape(1), (n,), int(meta["blocksize"]))
        in_dtype = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}[meta["input_dtype"]]
        got_absmax = q.absmax()
        got = q.dequantize(torch.float32).to(in_dtype).float()
        for what, g, e in (("absmax_dq", got_absmax, t["absmax_dq"].reshape(-1)), ("dequant_dq", got, t["dequant_dq"])):
            same = (g.view(torch.int32) == e.view(torch.int32)) | (torch.isnan(g) & torch.isnan(e))
            if not bool(same.all()):
                bad = int((~same).nonzero()[0])
                raise AssertionError("%s %s: element %d is %r, the vector says %r" % (name, what, bad, float(g[bad]), float(e[bad])))
        checked += 1
    if checked == 0:
        raise AssertionError("no NF4 double-quant vectors in " + folder)
    log("dry-run: NF4 + double-quant dequant matches %d bitsandbytes-format vector files bit for bit (%s)" % (checked, folder))
    return checked


def dry_run_checks(torch):
    dev = torch.device("cpu")
    torch.manual_seed(0)
    # 1. the dequant against the per-element loop: a tail block and a partial nested block, and the
    #    fast path (whole blocks, whole nested blocks)
    for shape in ((3, 100), (48, 160), (64, 1024)):
        w = torch.randn(*shape) * 0.02 * torch.linspace(0.25, 4, shape[0]).view(-1, 1)
        q = Nf4Weight.quantize(torch, w)
        got = q.dequantize(torch.bfloat16).float().view(-1).tolist()
        want = dequant_by_loop(q)
        diffs = [i for i, (g, e) in enumerate(zip(got, want)) if struct.pack("<f", g) != struct.pack("<f", e)]
        if diffs:
            raise AssertionError("dequant %s differs from the loop at %d elements, first %d: %r vs %r"
                                 % (shape, len(diffs), diffs[0], got[diffs[0]], want[diffs[0]]))
        # the quantizer makes sensible input: within half the widest NF4 gap (~0.16) of each block's absmax, plus DQ error
        err = (q.dequantize(torch.float32) - w).abs().max().item()
        if err > 0.2 * w.abs().max().item():
            raise AssertionError("round trip error %g too large for %s" % (err, shape))
        log("dry-run: dequant %s = the element-by-element loop, bit for bit (%d elements)" % (shape, len(want)))
    # 2. the tables against qlora4j's Java sources when this runs from the repository
    here = os.path.dirname(os.path.abspath(__file__))
    java = os.path.join(here, "..", "nf4", "src", "main", "java", "dev", "qlora4j", "nf4")
    if os.path.isdir(java):
        import re
        with open(os.path.join(java, "DynamicMap.java")) as f:
            words = re.findall(r"\b[0-9A-F]{8}\b", f.read().split("decode(")[1].split(");")[0])
        assert [int(w, 16) for w in words] == [int(w, 16) for w in DYNAMIC_MAP_HEX.split()], "dynamic map differs from DynamicMap.java"
        with open(os.path.join(java, "QuantType.java")) as f:
            nf4 = [int(w, 16) for w in re.findall(r"0x([0-9A-F]{8})", f.read().split("NF4(new int[]{")[1].split("})")[0])]
        assert nf4 == NF4_BITS, "NF4 table differs from QuantType.java"
        log("dry-run: NF4 table and dynamic map equal qlora4j's QuantType.java and DynamicMap.java")
    check_bnb_vectors(torch)
    # 3. the QLoRA layer's gradients against the same math in f32 with a dense weight
    for save in (False, True):
        step, (q, x, a, b, dy, s) = lora_layer(torch, dev, 32, 128, 192, 4, 8.0, save)
        gx, ga, gb = step()
        xr = x.detach().float().requires_grad_(True)
        ar, br = a.detach().clone().requires_grad_(True), b.detach().clone().requires_grad_(True)
        wd = q.dequantize(torch.bfloat16).float()
        (xr @ wd.t() + s * ((xr @ ar.t()) @ br.t())).backward(dy.float())
        for what, g, e in (("dx", gx, xr.grad), ("dA", ga, ar.grad), ("dB", gb, br.grad)):
            rel = ((g.float() - e).abs().max() / e.abs().max()).item()
            if not rel < 3e-2:
                raise AssertionError("LoRA %s off by %.3g (relative to its max)" % (what, rel))
        if ga.dtype != torch.float32 or gb.dtype != torch.float32 or gx.dtype != torch.bfloat16:
            raise AssertionError("grad dtypes %s %s %s" % (gx.dtype, ga.dtype, gb.dtype))
    log("dry-run: LoRA layer dx, dA, dB agree with a dense f32 reference (dequant recomputed and saved)")
    # 4. the training step learns: loss finite, the adapters move, nothing else is trained
    cfg = dict(layers=2, hidden=64, heads=4, kv_heads=2, intermediate=96, vocab=100, batch=2, seq=16, r=4,
               alpha=8.0, lr=1e-2, base="nf4")
    step, model, params = train_step(torch, dev, cfg, sdpa=False)
    before = [p.detach().clone() for p in params]
    losses = [float(step()) for _ in range(3)]
    if not all(math.isfinite(v) for v in losses):
        raise AssertionError("train step loss not finite: %r" % losses)
    if not all((p.detach() != b0).any() for p, b0 in zip(params, before)):
        raise AssertionError("some LoRA parameter did not change")
    if len(params) != 4 * cfg["layers"]:
        raise AssertionError("%d trainable tensors, expected A and B of q_proj and v_proj per layer" % len(params))
    log("dry-run: train step runs (losses %s), only the %d LoRA tensors train" % (
        ", ".join("%.3f" % v for v in losses), len(params)))


# ------------------------------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", help="write the results here (default: stdout)")
    ap.add_argument("--only", default=",".join(ALL), help="comma list of %s (default all)" % ",".join(ALL))
    ap.add_argument("--dry-run", action="store_true",
                    help="on the CPU at tiny shapes: check the NF4 and LoRA math, run each peer once")
    ap.add_argument("--warmup", type=int, default=5, help="calls before timing (default %(default)s)")
    ap.add_argument("--reps", type=int, default=15, help="timed samples; the median is reported (default %(default)s)")
    ap.add_argument("--min-sample-ms", type=float, default=2.0,
                    help="calls per sample so that one sample lasts at least this (default %(default)s)")
    ap.add_argument("--matmul-shapes", default="8192x8192x8192,4096x4096x4096,4096x14336x4096,4096x4096x14336",
                    help="MxNxK list: x [M,K] times W [N,K] transposed (default %(default)s)")
    ap.add_argument("--copy-bytes", type=int, default=1 << 30, help="default %(default)s")
    ap.add_argument("--dequant-shape", default="4096x14336", help="ROWSxCOLS of the NF4 weight (default %(default)s)")
    ap.add_argument("--lora-tokens", type=int, default=4096)
    ap.add_argument("--lora-in", type=int, default=4096)
    ap.add_argument("--lora-out", type=int, default=4096)
    ap.add_argument("--lora-r", type=int, default=16)
    ap.add_argument("--lora-alpha", type=float, default=32.0)
    ap.add_argument("--lora-dequant", choices=["recompute", "save"], default="recompute",
                    help="dequantize W again in backward (bitsandbytes) or keep the forward's copy")
    ap.add_argument("--llama-layers", type=int, default=4)
    ap.add_argument("--llama-hidden", type=int, default=512)
    ap.add_argument("--llama-heads", type=int, default=8)
    ap.add_argument("--llama-kv-heads", type=int, default=2)
    ap.add_argument("--llama-intermediate", type=int, default=1376)
    ap.add_argument("--llama-vocab", type=int, default=8000)
    ap.add_argument("--llama-batch", type=int, default=8)
    ap.add_argument("--llama-seq", type=int, default=256)
    ap.add_argument("--llama-r", type=int, default=8)
    ap.add_argument("--llama-alpha", type=float, default=16.0)
    ap.add_argument("--llama-base", choices=["nf4", "bf16"], default="nf4")
    ap.add_argument("--llama-lr", type=float, default=1e-3)
    ap.add_argument("--attention", choices=["sdpa", "explicit"], default="sdpa",
                    help="sdpa: F.scaled_dot_product_attention when available (default); explicit: softmax(QKᵀ)V")
    args = ap.parse_args()
    only = [s for s in args.only.split(",") if s]
    for s in only:
        if s not in ALL:
            ap.error("unknown peer %r (known: %s)" % (s, ", ".join(ALL)))
    matmul_shapes = [dims(s, 3) for s in args.matmul_shapes.split(",") if s]
    dq_rows, dq_cols = dims(args.dequant_shape, 2)

    import torch

    if args.dry_run:
        dev = torch.device("cpu")
        torch.set_num_threads(min(4, os.cpu_count() or 1))
        dry_run_checks(torch)
        matmul_shapes = [[64, 48, 32], [32, 96, 64]]
        copy_bytes, dq_rows, dq_cols = 1 << 20, 64, 1024
        lora = (32, 128, 128, 4)
        llama = dict(layers=2, hidden=64, heads=4, kv_heads=2, intermediate=96, vocab=100, batch=2, seq=16)
        timer = Timer(torch, dev, 1, 2, 0.0)
    else:
        if not torch.cuda.is_available():
            log("torch %s: CUDA is not available here (try --dry-run on a machine without a GPU)" % torch.__version__)
            return 2
        dev = torch.device("cuda")
        copy_bytes = args.copy_bytes
        lora = (args.lora_tokens, args.lora_in, args.lora_out, args.lora_r)
        llama = dict(layers=args.llama_layers, hidden=args.llama_hidden, heads=args.llama_heads,
                     kv_heads=args.llama_kv_heads, intermediate=args.llama_intermediate, vocab=args.llama_vocab,
                     batch=args.llama_batch, seq=args.llama_seq)
        timer = Timer(torch, dev, args.warmup, args.reps, args.min_sample_ms)
    llama.update(r=args.llama_r, alpha=args.llama_alpha, lr=args.llama_lr, base=args.llama_base)
    sdpa = args.attention == "sdpa" and hasattr(torch.nn.functional, "scaled_dot_product_attention")

    info = {"torch": torch.__version__, "cuda": torch.version.cuda, "device": str(dev),
            "timing": ("CUDA events" if dev.type == "cuda" else "perf_counter")
                      + ", median of %d samples after %d warm-up calls" % (timer.reps, timer.warmup)}
    if dev.type == "cuda":
        props = torch.cuda.get_device_properties(dev)
        info.update(gpu=torch.cuda.get_device_name(dev), capability="%d.%d" % (props.major, props.minor),
                    memory_gib=round(props.total_memory / 2 ** 30, 1),
                    bf16_reduced_precision_reduction=torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction)
        log("torch %s, CUDA %s, %s (sm %s, %.0f GiB)" % (info["torch"], info["cuda"], info["gpu"], info["capability"],
                                                         info["memory_gib"]))
    else:
        info["gpu"] = "none (dry run on the CPU)"
        log("torch %s on the CPU (dry run: tiny shapes, timings mean nothing)" % info["torch"])
    torch.manual_seed(0)

    jobs = []
    if "matmul" in only:
        jobs += [("matmul_bf16", lambda m=m, n=n, k=k: peer_matmul(torch, dev, timer, m, n, k)) for m, n, k in matmul_shapes]
    if "copy" in only:
        jobs.append(("copy", lambda: peer_copy(torch, dev, timer, copy_bytes)))
    if "dequant" in only:
        jobs.append(("dequant_nf4", lambda: peer_dequant(torch, dev, timer, dq_rows, dq_cols)))
    if "lora" in only:
        jobs.append(("lora_layer", lambda: peer_lora(torch, dev, timer, *lora, args.lora_alpha, args.lora_dequant == "save")))
    if "train" in only:
        jobs.append(("train_step", lambda: peer_train(torch, dev, timer, llama, sdpa)))

    results, errors = [], []
    for kind, job in jobs:
        try:
            r = job()
        except Exception as e:  # one peer failing (say, out of memory) leaves the others' numbers
            errors.append({"kind": kind, "error": "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")})
            log("torch %s FAILED: %s" % (kind, errors[-1]["error"]))
            if dev.type == "cuda":
                torch.cuda.empty_cache()
            continue
        r["ms"] = round(r["ms"], 5)
        results.append(r)
        w = r["work"]
        rate = ("%.1f TFLOP/s" % (w["flops"] / r["ms"] / 1e9) if "flops" in w else
                "%.0f GB/s" % (w["bytes"] / r["ms"] / 1e6) if "bytes" in w else
                "%.0f tokens/s" % (w["tokens"] / r["ms"] * 1e3))
        log("torch %s %s: %.3f ms, %s" % (kind, " ".join("%s=%s" % kv for kv in r["params"].items()), r["ms"], rate))
        if dev.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.empty_cache()

    doc = dict(info, results=results, errors=errors)
    text = json.dumps(doc, indent=1)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    else:
        print(text)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
