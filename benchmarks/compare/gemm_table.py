#!/usr/bin/python3
"""Markdown table comparing qlora4j's GemmBenchmark (JMH JSON, ops/s) with the
peer numbers of gemm_peers.py (JSON lines, GFLOP/s).  Standard library only.

    benchmarks/compare/gemm_table.py --jmh benchmarks/target/gemm-jmh.json \
        --peers benchmarks/target/gemm-peers.jsonl --out benchmarks/target/gemm-table.md
"""
import argparse
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from gemm_peers import parse_case  # noqa: E402 -- stdlib-only at import time; same case syntax

# JMH reports throughput in whatever unit the benchmark's @OutputTimeUnit says.
OPS_PER_SECOND = {"ops/s": 1.0, "ops/ms": 1e3, "ops/us": 1e6, "ops/ns": 1e9}
BUSY = 0.1  # other_cpu_load above this marks a peer number as disturbed


def flops(case):
    m, n, k, _ = parse_case(case)
    return 2.0 * m * n * k


def read_jmh(path):
    """{(case, dtype, threads): (mean, error, best iteration)} in GFLOP/s from JMH's
    -rf json output; error/best are None when JMH did not report them."""
    ours = {}
    with open(path) as f:
        for run in json.load(f):
            if not run["benchmark"].endswith(".gemm"):
                continue
            p, metric = run["params"], run["primaryMetric"]
            scale = OPS_PER_SECOND[metric["scoreUnit"]] * flops(p["shape"]) / 1e9
            error = metric.get("scoreError")
            error = error * scale if isinstance(error, (int, float)) else None  # "NaN" with 1 fork/iteration
            iterations = [v for fork in metric.get("rawData", []) for v in fork]
            best = max(iterations) * scale if iterations else None
            ours[(p["shape"], p["dtype"].lower(), int(p["threads"]))] = (metric["score"] * scale, error, best)
    return ours


def read_peers(path):
    """{(peer, case, dtype, threads): result line}; a later line wins."""
    peers = {}
    with open(path) as f:
        for line in f:
            if line.startswith("{"):
                r = json.loads(line)
                peers[(r["peer"], r["case"], r["dtype"].lower(), int(r["threads"]))] = r
    return peers


def table(ours, peers):
    def peer(name, case, dtype, threads):
        r = peers.get((name, case, dtype, threads))
        if r is None:
            return None, "-"
        mark = "*" if r.get("other_cpu_load", 0) > BUSY else ""
        return r["gflops"], "%.1f%s" % (r["gflops"], mark)

    def ratio(a, b):
        return "%.2f" % (a / b) if a and b else "-"

    def mine(key):
        """(value used in ratios, cell text).  Peers report their best batch, so
        compare against our best iteration where JMH gives the raw data: on this
        shared VM whole seconds run at ~half speed, which drags a mean down."""
        if key not in ours:
            return None, "-"
        mean, error, best = ours[key]
        text = "%.1f" % mean + (" ±%.1f" % error if error is not None else "")
        return (best, text + " (best %.1f)" % best) if best else (mean, text)

    rows = sorted({(c, t) for c, _, t in ours} | {(c, t) for _, c, _, t in peers},
                  key=lambda ct: (flops(ct[0]), ct[0], ct[1]))
    out = ["| shape | threads | qlora4j F32 | numpy F32 | torch F32 | qlora4j / best F32 peer "
           "| qlora4j BF16 | torch BF16 | qlora4j BF16 / qlora4j F32 |",
           "|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for case, threads in rows:
        f32, f32_s = mine((case, "f32", threads))
        bf16, bf16_s = mine((case, "bf16", threads))
        np_f32, np_s = peer("numpy", case, "f32", threads)
        t_f32, t_s = peer("torch", case, "f32", threads)
        _, t_bf16_s = peer("torch", case, "bf16", threads)
        best_peer = max((g for g in (np_f32, t_f32) if g), default=None)
        out.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s |" % (
            case, threads, f32_s, np_s, t_s, ratio(f32, best_peer), bf16_s, t_bf16_s, ratio(bf16, f32)))

    out.append("")
    out.append("GFLOP/s = 2·M·N·K / time; \"T\" shapes multiply by a row-major [N,K] matrix transposed "
               "(x·Wᵀ). qlora4j: JMH mean ± 99.9% error (best iteration); ratios use our best iteration, "
               "as the peers report their best timing batch.")
    libs = sorted({(r["peer"], r["dtype"], r["lib"]) for r in peers.values()})
    out.append("Peer kernels: " + "; ".join("%s %s = %s" % lib for lib in libs) + ".")
    if any(r.get("other_cpu_load", 0) > BUSY for r in peers.values()):
        out.append("\\* other processes used more than %d%% of the CPUs during this measurement; "
                   "rerun on a quiet machine." % (100 * BUSY))
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--jmh", default="benchmarks/target/gemm-jmh.json")
    p.add_argument("--peers", default="benchmarks/target/gemm-peers.jsonl")
    p.add_argument("--out", default="benchmarks/target/gemm-table.md")
    args = p.parse_args()
    md = table(read_jmh(args.jmh), read_peers(args.peers))
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        f.write(md)
    sys.stdout.write(md)


if __name__ == "__main__":
    main()
