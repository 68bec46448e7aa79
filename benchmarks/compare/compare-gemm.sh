#!/usr/bin/env bash
# Compare qlora4j's GEMM (JMH GemmBenchmark) with numpy/OpenBLAS and torch CPU.
#
#   benchmarks/compare/compare-gemm.sh [--quick]      (run from the repo root)
#
# Writes benchmarks/target/{gemm-jmh.json, gemm-peers.jsonl, gemm-table.md}.
# Run it on an otherwise idle machine: with 2 cores, any concurrent build
# halves the 2-thread numbers (the peer script flags such measurements).
set -euo pipefail

quick=""
case "${1:-}" in
  "") ;;
  --quick) quick="--quick" ;;
  *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/../.."
here=benchmarks/compare
out=benchmarks/target
mkdir -p "$out"

export PYTHONDONTWRITEBYTECODE=1  # gemm_table.py imports gemm_peers.py; keep the tree clean

# Debian's interpreter: the numpy/torch packages live there, not in a pyenv one.
py=/usr/bin/python3
if ! "$py" -c 'import numpy, torch' 2>/dev/null; then
  echo "numpy and torch are needed for the peers; install them with:" >&2
  echo "  apt-get update && apt-get install -y python3-numpy python3-torch libopenblas0-pthread" >&2
  exit 1
fi
# Debian's python3-numpy/torch link the libblas.so.3 alternative, which is the
# netlib reference BLAS (~6 instead of ~100 GFLOP/s here) unless an OpenBLAS package provides it.
blas=$("$py" -c "import sys; sys.path.insert(0, '$here'); import numpy, gemm_peers; print(gemm_peers.loaded_blas()[0])")
if [[ "$blas" != OpenBLAS* ]]; then
  echo "numpy is not using OpenBLAS ($blas); that is no fair peer. Install it with:" >&2
  echo "  apt-get install -y libopenblas0-pthread" >&2
  exit 1
fi

echo "== 1/3 qlora4j: JMH GemmBenchmark" >&2
# Measurement windows match the peers': 5 batches of about 0.3 s, of which the table takes the best
# (gemm_peers.py time_best), after a warm-up long enough for the JIT to settle.
if [[ -n "$quick" ]]; then
  jmh_args=(-f 1 -wi 2 -i 3 -w 1s -r 50ms)
else
  jmh_args=(-f 1 -wi 6 -i 5 -w 1s -r 300ms)
fi
./qlora4j bench GemmBenchmark -rf json -rff "$out/gemm-jmh.json" "${jmh_args[@]}"

echo "== 2/3 peers: numpy and torch" >&2
# The peer script strips OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE and sets the
# thread variables per subprocess itself.
"$py" "$here/gemm_peers.py" $quick | tee "$out/gemm-peers.jsonl"

echo "== 3/3 table" >&2
"$py" "$here/gemm_table.py" --jmh "$out/gemm-jmh.json" --peers "$out/gemm-peers.jsonl" \
  --out "$out/gemm-table.md"
