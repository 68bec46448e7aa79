#!/usr/bin/python3
"""GEMM throughput of the peers (numpy/OpenBLAS, torch CPU) for comparison with
qlora4j's GemmBenchmark.  Prints one JSON line per (peer, case, dtype, threads)
on stdout; library/backend details go to stderr.

Cases: "N" means M=N=K=N; "MxNxK" is general; a trailing "T" means B is stored
row-major as [N, K] and used transposed (x @ W^T, the layout of linear layers).

Each (peer, threads) pair runs in its own subprocess, because BLAS/OpenMP
thread pools are sized once per process and the environment must be set before
numpy/torch are imported.

    /usr/bin/python3 benchmarks/compare/gemm_peers.py --quick --threads 1
"""
import argparse
import ctypes
import json
import os
import subprocess
import sys
import tempfile

from peer_timing import cpu_busy_fraction, peer_env, time_batches

ALL_CASES = ["256", "512", "1024", "2048", "512x4096x4096T"]
DTYPES = {"numpy": ["f32"], "torch": ["f32", "bf16"]}


def parse_case(case):
    """'1024' -> (1024, 1024, 1024, False); '512x4096x4096T' -> (512, 4096, 4096, True)."""
    trans_b = case.endswith("T")
    dims = [int(d) for d in case.rstrip("T").split("x")]
    m, n, k = dims * 3 if len(dims) == 1 else dims
    return m, n, k, trans_b


# ---------------------------------------------------------------- worker side

class _DlInfo(ctypes.Structure):
    _fields_ = [("fname", ctypes.c_char_p), ("fbase", ctypes.c_void_p),
                ("sname", ctypes.c_char_p), ("saddr", ctypes.c_void_p)]


def loaded_blas():
    """(short, long) description of the library whose sgemm numpy/torch call.
    Both Debian packages link libblas.so.3, an alternatives symlink that is the
    slow netlib reference BLAS unless an OpenBLAS package is installed, so ask
    the dynamic linker which file really defines cblas_sgemm."""
    try:
        sgemm = ctypes.CDLL("libblas.so.3").cblas_sgemm  # already loaded: same handle
    except (OSError, AttributeError) as e:
        return "unknown BLAS", str(e)
    info = _DlInfo()
    ctypes.CDLL(None).dladdr(ctypes.cast(sgemm, ctypes.c_void_p), ctypes.byref(info))
    path = os.path.realpath(info.fname.decode())
    lib = ctypes.CDLL(path)
    if not hasattr(lib, "openblas_get_corename"):
        return "NOT OpenBLAS", "%s -- not a fair peer; apt-get install libopenblas0-pthread" % path
    lib.openblas_get_corename.restype = lib.openblas_get_config.restype = ctypes.c_char_p
    config = lib.openblas_get_config().decode()  # "OpenBLAS 0.3.21 DYNAMIC_ARCH ... <core> ..."
    return ("%s core=%s" % (" ".join(config.split()[:2]), lib.openblas_get_corename().decode()),
            "%s; %s; %d threads" % (config, path, lib.openblas_get_num_threads()))


def onednn_impl(fn):
    """Run fn() with oneDNN verbose on and return the matmul implementation it
    reports (e.g. 'brg:avx512_core_bf16'), or None if oneDNN was not used.
    oneDNN prints from C, so capture file descriptor 1 rather than sys.stdout."""
    import torch.backends.mkldnn as mkldnn
    libc = ctypes.CDLL(None)
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile(mode="w+") as tmp:
        os.dup2(tmp.fileno(), 1)
        try:
            with mkldnn.verbose(mkldnn.VERBOSE_ON):
                fn()
        finally:
            libc.fflush(None)
            os.dup2(saved, 1)
            os.close(saved)
        tmp.seek(0)
        for line in tmp:
            fields = line.split(",")
            if fields[1:4] == ["exec", "cpu", "matmul"]:
                return fields[4]
    return None


def time_best(fn, flops, quick):
    """Best-of-batches GFLOP/s: (best, worst batch, reps per batch, other processes' CPU share)."""
    best, worst, reps, others = time_batches(fn, quick)
    return flops / best / 1e9, flops / worst / 1e9, reps, others


def make_numpy(m, n, k, trans_b, dtype):
    import numpy as np
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if trans_b else (k, n), dtype=np.float32)
    bb = b.T if trans_b else b  # a view: BLAS gets a transpose flag, no copy
    c = np.empty((m, n), dtype=np.float32)
    # out= keeps allocation/page faults of the result out of the timing.
    return lambda: np.matmul(a, bb, out=c)


def make_torch(m, n, k, trans_b, dtype):
    import torch
    g = torch.Generator().manual_seed(0)
    dt = {"f32": torch.float32, "bf16": torch.bfloat16}[dtype]
    a = torch.randn(m, k, generator=g).to(dt)
    b = torch.randn((n, k) if trans_b else (k, n), generator=g).to(dt)
    bb = b.t() if trans_b else b
    c = torch.empty(m, n, dtype=dt)
    return lambda: torch.matmul(a, bb, out=c)


def worker(args):
    if args.peer == "torch":
        import torch
        torch.set_num_threads(args.threads)
        info = ["torch %s, %d threads, mkldnn available=%s" % (
            torch.__version__, torch.get_num_threads(), torch.backends.mkldnn.is_available())]
        info += [l.strip() for l in torch.__config__.show().splitlines()[1:6]]
        make = make_torch
    else:
        import numpy as np
        info = ["numpy %s" % np.__version__]
        make = make_numpy
    blas, blas_detail = loaded_blas()
    info.append(blas_detail)
    print("# %s, threads=%d:\n#   %s" % (args.peer, args.threads, "\n#   ".join(info)),
          file=sys.stderr, flush=True)

    for dtype in DTYPES[args.peer]:
        if dtype not in args.dtypes:
            continue
        # Which kernel library serves this dtype (torch: oneDNN for bf16 on
        # AVX-512 CPUs, the system BLAS for f32).
        lib = blas
        if args.peer == "torch":
            impl = onednn_impl(make(64, 64, 64, True, dtype))
            lib = "oneDNN " + impl if impl else (blas if dtype == "f32" else "ATen native")
        for case in args.cases:
            m, n, k, trans_b = parse_case(case)
            best, worst, reps, others = time_best(make(m, n, k, trans_b, dtype), 2.0 * m * n * k, args.quick)
            print(json.dumps({"peer": args.peer, "case": case, "m": m, "n": n, "k": k,
                              "transB": trans_b, "dtype": dtype, "threads": args.threads,
                              "gflops": round(best, 2), "gflops_worst_batch": round(worst, 2),
                              "reps_per_batch": reps, "other_cpu_load": round(others, 2),
                              "lib": lib}), flush=True)


# ---------------------------------------------------------------- parent side

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", default=",".join(ALL_CASES), help="comma list, default %(default)s")
    p.add_argument("--threads", default="1,2", help="comma list, default %(default)s")
    p.add_argument("--peers", default="numpy,torch", help="comma list, default %(default)s")
    p.add_argument("--dtypes", default="f32,bf16", help="comma list, default %(default)s")
    p.add_argument("--quick", action="store_true", help="short timing, for smoke runs")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--peer", help=argparse.SUPPRESS)
    args = p.parse_args()
    args.cases = args.cases.split(",")
    args.dtypes = args.dtypes.split(",")
    for case in args.cases:
        parse_case(case)  # fail fast on a malformed case

    if args.worker:
        args.threads = int(args.threads)
        return worker(args)

    failed = False
    for peer in args.peers.split(","):
        if peer not in DTYPES:
            p.error("unknown peer %r (known: %s)" % (peer, ", ".join(DTYPES)))
        for threads in args.threads.split(","):
            cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--peer", peer,
                   "--threads", threads, "--cases", ",".join(args.cases),
                   "--dtypes", ",".join(args.dtypes)] + (["--quick"] if args.quick else [])
            busy = cpu_busy_fraction()
            if busy > 0.1:
                print("# WARNING: other processes keep %.0f%% of the CPUs busy; %s threads=%s"
                      " will measure low (see other_cpu_load)" % (100 * busy, peer, threads),
                      file=sys.stderr)
            # stdout/stderr are inherited, so JSON lines stream straight through.
            rc = subprocess.call(cmd, env=peer_env(int(threads)))
            if rc != 0:
                print("# %s threads=%s failed with exit code %d" % (peer, threads, rc), file=sys.stderr)
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
