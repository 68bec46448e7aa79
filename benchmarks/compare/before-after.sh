#!/usr/bin/env bash
# Same-run before/after of a change: builds the benchmarks jar of BASE (a commit) in a temporary
# worktree and of the working tree, then runs the same JMH selection with each, in two passes of
# opposite order (before->after, then after->before) so that drift on a shared machine shows up as
# a difference between passes rather than between versions. Prints one line per benchmark and run.
#
#   benchmarks/compare/before-after.sh BASE [OUT_DIR]
#
# The selection is the one a change to the engine's structure must not slow down: GemmBenchmark
# (F32, 1024^3 and 512x4096x4096T, 1 and 2 threads), LoraLayerBenchmark (d 4096, r 16, F32/NF4/full)
# and TrainStepBenchmark (NF4/F32/full), one fork each.
set -euo pipefail
base="${1:?usage: before-after.sh BASE_COMMIT [OUT_DIR]}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${2:-$root/target/before-after}"
mkdir -p "$out"
java="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"

tree="$(mktemp -d)"
trap 'git -C "$root" worktree remove --force "$tree" >/dev/null 2>&1 || true' EXIT
git -C "$root" worktree add --detach "$tree" "$base" >/dev/null
(cd "$tree" && mvn -B -q package -DskipTests -pl benchmarks -am) >&2
(cd "$root" && mvn -B -q package -DskipTests -pl benchmarks -am) >&2
cp "$tree/benchmarks/target/benchmarks.jar" "$out/before.jar"
cp "$root/benchmarks/target/benchmarks.jar" "$out/after.jar"

run() { # version pass
  local jar="$out/$1.jar"
  "$java" -jar "$jar" GemmBenchmark -p shape=1024,512x4096x4096T -p dtype=F32 -p threads=1,2 -f 1 -wi 3 -w 2s -i 5 -r 2s \
      -rf json -rff "$out/gemm-$1-$2.json" >"$out/gemm-$1-$2.log" 2>&1
  "$java" -jar "$jar" LoraLayerBenchmark -p d=4096 -p rank=16 -p base=F32,NF4,full -f 1 \
      -rf json -rff "$out/lora-$1-$2.json" >"$out/lora-$1-$2.log" 2>&1
  "$java" -jar "$jar" TrainStepBenchmark -p base=NF4,F32,full -f 1 \
      -rf json -rff "$out/train-$1-$2.json" >"$out/train-$1-$2.log" 2>&1
}
run before 1
run after 1
run after 2
run before 2

python3 - "$out" <<'PY'
import glob, json, sys
for f in sorted(glob.glob(sys.argv[1] + "/*-[12].json")):
    run = f.rsplit("/", 1)[1][:-5]
    for r in json.load(open(f)):
        m = r["primaryMetric"]
        params = ",".join(f"{k}={v}" for k, v in sorted(r.get("params", {}).items()))
        print(f"{run:16} {r['benchmark'].rsplit('.', 2)[-2]:20} {params:45} {m['score']:10.2f} ± {m['scoreError']:.2f} {m['scoreUnit']}")
PY
