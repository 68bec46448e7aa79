#!/usr/bin/env python3
"""The short results table that ends gpu-check/check.sh: each JMH benchmark's time beside PyTorch's
for the same work and their ratio, then the PyTorch numbers nothing matched, then the test counts.

    python3 results_table.py --dir OUT [--footer LINE]

Reads from OUT: jmh-gpu.json (JMH -rf json), torch-gpu.json (torch_peers.py --json),
junit-*.counts (key=value lines check.sh extracts from the JUnit console summary) and status.txt.
Writes the table to stdout and to OUT/results.txt. Standard library only.

A benchmark is matched to a PyTorch entry by kind and shape, both read from the benchmark:
  kind   from the method, else the class name: gemm|matmul -> matmul_bf16, dequant -> dequant_nf4,
         copy|bandwidth|memcpy -> copy, lora -> lora_layer, train -> train_step
         (a name with "quantized" or "fused" has no PyTorch peer here)
  shape  from its @Param values, with these names (case-insensitive):
         matmul_bf16  shape "MxNxK" (M tokens, N out, K in; "MxKxNT" as GemmBenchmark writes a
                      transposed weight) or shape/size "S" for M=N=K=S
         copy         bytes (or mib)
         dequant_nf4  shape "ROWSxCOLS", or rows and cols
         lora_layer   tokens, d (or in and out), rank (or r); shape "TOKENSxOUTxIN" also works
         train_step   layers, hidden (or d), batch, seq; heads, kv_heads, intermediate, vocab, rank
                      when stated must agree too
  A param that both sides have must agree (dtype/out, base, ...). A benchmark whose params do not
  state its shape gets no ratio rather than a guessed one.
The ratio is PyTorch's time divided by qlora4j's: above 1 means qlora4j is faster.
"""
import argparse
import json
import os
import re
import sys

KIND_WORDS = [
    ("quantized", None), ("fused", None),
    ("dequant", "dequant_nf4"),
    ("lora", "lora_layer"),
    ("train", "train_step"),
    ("gemm", "matmul_bf16"), ("matmul", "matmul_bf16"),
    ("copy", "copy"), ("bandwidth", "copy"), ("memcpy", "copy"),
]
IDENTITY = {
    "matmul_bf16": ("m", "n", "k"),
    "copy": ("bytes",),
    "dequant_nf4": ("rows", "cols"),
    "lora_layer": ("tokens", "in", "out", "r"),
    "train_step": ("layers", "hidden", "batch", "seq"),
}
ALIASES = {"rank": "r", "type": "dtype", "precision": "dtype", "out_dtype": "dtype", "kvheads": "kv_heads",
           "kv": "kv_heads", "mlp": "intermediate", "ffn": "intermediate", "weight": "base", "format": "base"}
TIME_UNITS = {"s": 1e3, "ms": 1.0, "us": 1e-3, "ns": 1e-6, "min": 6e4}


def kind_of(benchmark):
    parts = benchmark.split(".")
    method, cls = parts[-1].lower(), (parts[-2] if len(parts) > 1 else "").lower()
    for name in (method, cls):
        for word, kind in KIND_WORDS:
            if word in name:
                return kind, True
    return None, False


def ms_per_op(score, unit):
    """JMH score -> milliseconds per operation, or None for units that are not time or rate."""
    unit = unit.strip()
    m = re.fullmatch(r"ops/(\w+)", unit)
    if m and m.group(1) in TIME_UNITS and score > 0:
        return TIME_UNITS[m.group(1)] / score
    m = re.fullmatch(r"(\w+)/op", unit)
    if m and m.group(1) in TIME_UNITS:
        return score * TIME_UNITS[m.group(1)]
    return None


def normalize(kind, params):
    """JMH @Param values -> the keys torch_peers.py writes."""
    out = {}
    for key, value in (params or {}).items():
        key = ALIASES.get(key.lower(), key.lower())
        value = str(value).strip()
        dims = re.fullmatch(r"(\d+)x(\d+)(?:x(\d+))?(T?)", value, re.IGNORECASE)
        if key in ("shape", "size", "dims") and dims:
            a, b, c, transposed = int(dims.group(1)), int(dims.group(2)), dims.group(3), dims.group(4)
            if c is None:
                out.update(rows=a, cols=b)
            elif kind == "lora_layer":
                out.update(tokens=a, out=b, **{"in": int(c)})
            elif transposed:
                out.update(m=a, k=b, n=int(c))
            else:
                out.update(m=a, n=b, k=int(c))
            continue
        if re.fullmatch(r"-?\d+", value):
            out[key] = int(value)
        else:
            out[key] = value.upper()
    if kind == "matmul_bf16":
        for square in ("shape", "size"):
            if isinstance(out.get(square), int):
                out.update(m=out[square], n=out[square], k=out[square])
    if kind == "lora_layer" and "d" in out:
        out.setdefault("in", out["d"])
        out.setdefault("out", out["d"])
    if kind == "train_step" and "d" in out:
        out.setdefault("hidden", out["d"])
    if kind == "copy" and "mib" in out:
        out.setdefault("bytes", out["mib"] << 20)
    if kind == "dequant_nf4" and "out" in out and not isinstance(out["out"], int):
        out.setdefault("dtype", out.pop("out"))
    return out


def match(kind, params, peers):
    """The PyTorch entry for the same work, and why there is none."""
    if kind is None:
        return None, "no PyTorch peer for this kind"
    missing = [k for k in IDENTITY[kind] if k not in params]
    if missing:
        return None, "params do not state " + ", ".join(missing)
    best = None
    for peer in peers:
        if peer.get("kind") != kind:
            continue
        theirs = peer.get("params", {})
        if all(str(params[k]).upper() == str(theirs[k]).upper() for k in params if k in theirs):
            shared = sum(1 for k in params if k in theirs)
            if best is None or shared > best[0]:
                best = (shared, peer)
    if best is None:
        return None, "PyTorch did not run these params"
    return best[1], ""


def fmt_ms(ms):
    if ms is None:
        return "-"
    if ms >= 100:
        return "%.0f ms" % ms
    if ms >= 1:
        return "%.2f ms" % ms
    return "%.3f ms" % ms


def metric(peer, ms):
    """The rate that says most for this work: TFLOP/s, GB/s or tokens/s."""
    work = (peer or {}).get("work", {})
    if not ms:
        return ""
    if "flops" in work:
        return "%s TFLOP/s" % num(work["flops"] / (ms * 1e-3) / 1e12)
    if "bytes" in work:
        return "%s GB/s" % num(work["bytes"] / (ms * 1e-3) / 1e9)
    if "tokens" in work:
        return "%s tok/s" % num(work["tokens"] / (ms * 1e-3))
    return ""


def num(v):
    """Three significant digits, no exponent for the sizes that occur here."""
    return "%.0f" % v if v >= 100 else "%.3g" % v


def describe(params):
    return " ".join("%s=%s" % (k, v) for k, v in params.items())


def table(rows, header):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    return lines


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f), None
    except FileNotFoundError:
        return None, "not run"
    except (OSError, ValueError) as e:
        return None, "unreadable (%s)" % e


def read_kv(path):
    kv = {}
    try:
        with open(path) as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    kv[k] = v
    except OSError:
        pass
    return kv


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True, help="check.sh's output folder")
    ap.add_argument("--footer", default="", help="a last line to print")
    args = ap.parse_args()
    d = args.dir
    status = read_kv(os.path.join(d, "status.txt"))
    jmh, jmh_err = load_json(os.path.join(d, "jmh-gpu.json"))
    torch, torch_err = load_json(os.path.join(d, "torch-gpu.json"))
    peers = (torch or {}).get("results", [])

    lines = []
    env = ["GPU: %s" % status.get("gpu", "?")]
    if status.get("driver"):
        env.append("driver %s" % status["driver"])
    if torch:
        env.append("torch %s (CUDA %s)" % (torch.get("torch", "?"), torch.get("cuda", "?")))
    lines.append("RESULTS  " + "; ".join(env))

    used = set()
    rows = []
    for b in jmh or []:
        name = b.get("benchmark", "?")
        kind, _ = kind_of(name)
        params = normalize(kind, b.get("params"))
        pm = b.get("primaryMetric", {})
        score, unit = pm.get("score"), pm.get("scoreUnit", "")
        ms = ms_per_op(score, unit) if isinstance(score, (int, float)) else None
        peer, why = match(kind, params, peers)
        short = ".".join(name.split(".")[-2:])
        raw = "%.4g %s" % (score, unit) if isinstance(score, (int, float)) else "?"
        if peer is not None:
            used.add(id(peer))
            ratio = "%.2fx" % (peer["ms"] / ms) if ms and peer.get("ms") else "-"
            rows.append([short, describe(b.get("params") or {}), fmt_ms(ms) if ms else raw, metric(peer, ms),
                         fmt_ms(peer.get("ms")), metric(peer, peer.get("ms")), ratio])
        else:
            rows.append([short, describe(b.get("params") or {}), fmt_ms(ms) if ms else raw, "", "-", "", why])
    if rows:
        lines.append("")
        lines += table(rows, ["benchmark", "params", "qlora4j", "rate", "PyTorch", "rate", "torch/qlora4j"])
        lines.append("torch/qlora4j: PyTorch's time / qlora4j's for the same work, same GPU, this run (above 1: qlora4j faster)")
    else:
        lines.append("benchmarks: none ran (%s)" % status.get("jmh", jmh_err or "no results"))

    rest = [p for p in peers if id(p) not in used]
    if rest:
        lines.append("")
        lines.append("PyTorch only (no qlora4j benchmark at these params):")
        prow = [[p.get("kind", "?"), describe(p.get("params", {})), fmt_ms(p.get("ms")), metric(p, p.get("ms"))]
                for p in rest]
        lines += ["  " + line for line in table(prow, ["peer", "params", "time", "rate"])]
    elif not peers:
        lines.append("PyTorch: %s" % status.get("torch", torch_err or "no results"))
    if torch and torch.get("errors"):
        for e in torch["errors"]:
            lines.append("PyTorch %s failed: %s" % (e.get("kind", "?"), e.get("error", "?")))

    lines.append("")
    test_parts = []
    for f in sorted(os.listdir(d)):
        m = re.fullmatch(r"junit-(.+)\.counts", f)
        if not m:
            continue
        c = read_kv(os.path.join(d, f))
        if "found" not in c:
            test_parts.append("%s: did not finish (exit %s%s)" % (
                m.group(1), c.get("rc", "?"), ", timed out" if "timeout" in c else ""))
            continue
        n = {k: int(c.get(k, 0)) for k in ("found", "successful", "failed", "skipped", "aborted")}
        if n["found"] == 0:
            test_parts.append("%s: no tests found" % m.group(1))
            continue
        test_parts.append("%s: %d passed, %d failed, %d skipped%s" % (
            m.group(1), n["successful"], n["failed"], n["skipped"] + n["aborted"],
            "" if c.get("rc", "0") == "0" else " (exit %s%s)" % (c["rc"], ", timed out" if "timeout" in c else "")))
    lines.append("tests: " + ("; ".join(test_parts) if test_parts else "not run"))
    if args.footer:
        lines.append(args.footer)

    text = "\n".join(lines)
    print(text)
    try:
        with open(os.path.join(d, "results.txt"), "w") as f:
            f.write(text + "\n")
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
