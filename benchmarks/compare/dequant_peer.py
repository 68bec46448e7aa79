#!/usr/bin/python3
"""NF4 dequantization in PyTorch (CPU), the table-lookup way bitsandbytes' torch fallback does it,
at the shape of qlora4j's DequantBenchmark (4096x4096, block 64): prints GB/s of output written.

    OMP_WAIT_POLICY=passive /usr/bin/python3 benchmarks/compare/dequant_peer.py [--threads 2]
"""
import argparse
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n", type=int, default=4096 * 4096)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    n, bs = args.n, 64
    gen = torch.Generator().manual_seed(0)
    packed = torch.randint(0, 256, (n // 2,), dtype=torch.uint8, generator=gen)
    absmax = torch.rand(n // bs, generator=gen)
    lut = torch.linspace(-1, 1, 16)

    def dequant(out_dtype):
        codes = torch.stack(((packed >> 4), (packed & 0xF)), dim=1).reshape(-1).long()  # element 2j = high nibble
        values = lut[codes].view(-1, bs) * absmax.view(-1, 1)
        return values.reshape(-1).to(out_dtype)

    for dtype in (torch.float32, torch.bfloat16):
        dequant(dtype)
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            dequant(dtype)
            best = min(best, time.perf_counter() - t0)
        size = 4 if dtype == torch.float32 else 2
        print(f"torch {dtype}: {n * size / best / 1e9:.2f} GB/s written ({best * 1e3:.1f} ms)")


if __name__ == "__main__":
    main()
