#!/usr/bin/env bash
# qlora4j GPU check: the CUDA test suite, then the CUDA benchmarks, then the same work in PyTorch
# when it is installed, and a short results table last. Needs only bash, coreutils and an NVIDIA
# driver: the Java runtime, the jars and the JUnit launcher are in this folder (made by
# cuda/gpu-check/prepare.sh); python3 is optional (PyTorch peers and the table).
#
#   bash gpu-check/check.sh [--all-tests] [--no-tests] [--no-bench] [--no-torch]
#
#   --all-tests  run every test, not only the CUDA-tagged ones (the CPU tests take minutes)
#   --no-tests / --no-bench / --no-torch   leave that step out
#
# Environment (all optional):
#   OUT                      where logs and results go (default: gpu-check/out)
#   QLORA4J_CUDA_CUDART, QLORA4J_CUDA_CUBLAS, QLORA4J_CUDA_CUBLASLT
#                            paths of libcudart.so.N, libcublas.so.N, libcublasLt.so.N to use
#   CUDA_HOME                a CUDA toolkit to look in first
#   PYTHON                   the python3 to run the PyTorch peers with (default: the first of
#                            python3, /usr/bin/python3, ... that has torch with CUDA)
#   JAVA_OPTS                extra JVM flags for the tests and benchmarks
#   QLORA4J_BENCH_REGEX      JMH benchmarks to run (default 'Cuda.*')
#   QLORA4J_JMH_ARGS         JMH options (default '-f 1 -wi 3 -i 5 -w 1s -r 1s')
#   QLORA4J_TORCH_ARGS       extra torch_peers.py options (see torch_peers.py --help)
#   QLORA4J_CHECK_FORCE=1    run benchmarks and peers even when no GPU is detected
#   QLORA4J_TEST_TIMEOUT     seconds for each test run (defaults 240 for the CUDA-tagged tests,
#                            60 for the bindings, 1800 with --all-tests)
#   QLORA4J_BENCH_TIMEOUT    seconds for all benchmarks together (default 300; each benchmark
#                            method is its own JMH run, so one cut off loses only its results)
#   QLORA4J_TORCH_TIMEOUT    seconds for the PyTorch peers (default 180)
#
# Exit status: 0 when every test run passed (skipped CUDA cases on a machine without a GPU are a
# pass) and the benchmarks ran or had nothing to run; 1 otherwise; 2 for a bad argument.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${OUT:-$here/out}"

all_tests=0 run_tests=1 run_bench=1 run_torch=1
for arg in "$@"; do
  case "$arg" in
    --all-tests) all_tests=1 ;;
    --no-tests) run_tests=0 ;;
    --no-bench) run_bench=0 ;;
    --no-torch) run_torch=0 ;;
    -h|--help) awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    *) echo "check.sh: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done

mkdir -p "$out" || { echo "check.sh: cannot create $out" >&2; exit 1; }
out="$(cd "$out" && pwd)"
# A previous run's results would mix into this run's table.
rm -rf "$out"/junit-* "$out"/jmh "$out"/jmh-* "$out"/torch-gpu.* "$out"/nvidia-smi.txt "$out"/results.txt \
  "$out"/status.txt "$out"/check.log
status_file="$out/status.txt"

java="$here/runtime/bin/java"
jvm_flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
java_props=()
gpu=0
failed=0

step() { printf '\n==== %s\n' "$*"; }
note() { printf '%s=%s\n' "$1" "$2" >>"$status_file"; }
have() { command -v "$1" >/dev/null 2>&1; }
# timeout(1) when coreutils has it; the step runs unbounded otherwise.
bounded() {
  local secs="$1"
  shift
  if have timeout; then timeout -k 15 "$secs" "$@"; else "$@"; fi
}

# ------------------------------------------------------------------ (a) CUDA libraries
lib_dirs=()
lib_srcs=()
add_dir() { # DIR SOURCE: a candidate directory, once, in order of preference
  local d="$1" e
  [ -d "$d" ] || return 0
  d="$(cd "$d" && pwd -P)"
  for e in "${lib_dirs[@]+"${lib_dirs[@]}"}"; do [ "$e" = "$d" ] && return 0; done
  lib_dirs+=("$d")
  lib_srcs+=("$2")
}

pythons() { # distinct python3 interpreters, preferred first
  local p r seen=""
  for p in ${PYTHON:-} python3 /usr/bin/python3 /usr/local/bin/python3 "${CONDA_PREFIX:-/nonexistent}/bin/python3" python; do
    p="$(command -v "$p" 2>/dev/null)" || continue
    r="$(readlink -f "$p")"
    case " $seen " in *" $r "*) continue ;; esac
    seen="$seen $r"
    echo "$p"
  done
}

# Directories of the nvidia-* wheels (nvidia/cu13/lib for CUDA 13, nvidia/<lib>/lib for 12) and of
# torch/lib, asked of each interpreter without importing torch.
python_lib_dirs() {
  local py
  while IFS= read -r py; do
    "$py" - <<'PY' 2>/dev/null
import importlib.util, os
for name in ("nvidia", "torch"):
    try:
        spec = importlib.util.find_spec(name)
    except Exception:
        spec = None
    for base in (spec.submodule_search_locations or []) if spec else []:
        for dirpath, dirnames, filenames in os.walk(base):
            if dirpath[len(base):].count(os.sep) > 3:
                dirnames[:] = []
                continue
            if any(f.startswith(("libcudart.so.", "libcublas.so.", "libcublasLt.so.")) for f in filenames):
                print(dirpath)
PY
  done < <(pythons)
}

find_cuda_libraries() {
  local arch d line
  arch="$(uname -m)"
  [ "$arch" = aarch64 ] && arch=sbsa
  for home in "${CUDA_HOME:-}" "${CUDA_PATH:-}"; do
    [ -n "$home" ] || continue
    add_dir "$home/lib64" CUDA_HOME
    add_dir "$home/lib" CUDA_HOME
    add_dir "$home/targets/$arch-linux/lib" CUDA_HOME
  done
  add_dir /usr/local/cuda/lib64 /usr/local/cuda
  add_dir "/usr/local/cuda/targets/$arch-linux/lib" /usr/local/cuda
  while IFS= read -r d; do
    add_dir "$d/lib64" "$d"
    add_dir "$d/targets/$arch-linux/lib" "$d"
  done < <(ls -d /usr/local/cuda-* 2>/dev/null | sort -V -r)
  if have ldconfig || [ -x /sbin/ldconfig ]; then
    while IFS= read -r line; do
      add_dir "$(dirname "$line")" "ldconfig"
    done < <({ ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } \
               | sed -n 's/^[[:space:]]*lib\(cudart\|cublas\|cublasLt\)\.so\.1[0-9] .*=> \(.*\)$/\2/p')
  fi
  [ -n "${CONDA_PREFIX:-}" ] && add_dir "$CONDA_PREFIX/lib" conda
  while IFS= read -r d; do add_dir "$d" "python wheel"; done < <(python_lib_dirs)
}

find_by_search() { # last resort: pip/conda trees under the usual roots
  local roots=() r d
  for r in /usr/lib /usr/local/lib /usr/local /opt /root /home "${HOME:-/root}" /workspace /data; do
    [ -d "$r" ] && roots+=("$r")
  done
  [ "${#roots[@]}" -gt 0 ] || return 0
  while IFS= read -r d; do add_dir "$d" "search"; done < <(
    bounded 60 find "${roots[@]}" -xdev -maxdepth 9 \( -path '*-packages/nvidia/*' -o -path '*/envs/*/lib' \) \
        \( -name 'libcudart.so.1[23]' -o -name 'libcublas.so.1[23]' -o -name 'libcublasLt.so.1[23]' \) \
        -printf '%h\n' 2>/dev/null | sort -u)
}

pick() { # NAME MAJOR: the first candidate directory holding NAME.so.MAJOR
  local i
  for i in "${!lib_dirs[@]}"; do
    if [ -e "${lib_dirs[$i]}/$1.so.$2" ]; then
      echo "$i"
      return 0
    fi
  done
  return 1
}

describe() { # PATH SOURCE
  local real
  real="$(readlink -f "$1" 2>/dev/null || echo "$1")"
  if [ "$real" != "$1" ]; then echo "$1 -> $(basename "$real")  [$2]"; else echo "$1  [$2]"; fi
}

resolve_libraries() {
  local cudart="${QLORA4J_CUDA_CUDART:-}" cublas="${QLORA4J_CUDA_CUBLAS:-}" cublaslt="${QLORA4J_CUDA_CUBLASLT:-}"
  local cudart_src=env cublas_src=env cublaslt_src=env major="" i m
  find_cuda_libraries
  if [ -z "$cudart" ] || [ -z "$cublas" ] || [ -z "$cublaslt" ]; then
    local need_search=1
    for m in 13 12; do
      if pick libcudart "$m" >/dev/null && pick libcublas "$m" >/dev/null && pick libcublasLt "$m" >/dev/null; then
        need_search=0
        break
      fi
    done
    [ "$need_search" = 1 ] && find_by_search
  fi
  # The CUDA major version: the newest with all three libraries, else the newest runtime found.
  if [ -n "$cudart" ]; then
    major="$(basename "$cudart" | sed -n 's/^libcudart\.so\.\([0-9]*\).*/\1/p')"
  else
    for m in 13 12; do
      if pick libcudart "$m" >/dev/null && pick libcublas "$m" >/dev/null && pick libcublasLt "$m" >/dev/null; then
        major="$m"
        break
      fi
    done
    if [ -z "$major" ]; then
      for m in 13 12; do pick libcudart "$m" >/dev/null && { major="$m"; break; }; done
    fi
    if [ -n "$major" ]; then
      i="$(pick libcudart "$major")"
      cudart="${lib_dirs[$i]}/libcudart.so.$major"; cudart_src="${lib_srcs[$i]}"
    fi
  fi
  # cuBLAS of that major version (another one only when that is all there is), Lt and the main
  # library from one directory when possible.
  local majors="13 12"
  [ -n "$major" ] && majors="$major $(echo 13 12 | tr ' ' '\n' | grep -vx "$major" | paste -sd' ' -)"
  if [ -z "$cublas" ] || [ -z "$cublaslt" ]; then
    for m in $majors; do
      for i in "${!lib_dirs[@]}"; do
        if [ -e "${lib_dirs[$i]}/libcublas.so.$m" ] && [ -e "${lib_dirs[$i]}/libcublasLt.so.$m" ]; then
          [ -z "$cublas" ] && { cublas="${lib_dirs[$i]}/libcublas.so.$m"; cublas_src="${lib_srcs[$i]}"; }
          [ -z "$cublaslt" ] && { cublaslt="${lib_dirs[$i]}/libcublasLt.so.$m"; cublaslt_src="${lib_srcs[$i]}"; }
          break 2
        fi
      done
    done
  fi
  echo "candidate directories (in order):"
  for i in "${!lib_dirs[@]}"; do echo "  ${lib_dirs[$i]}  [${lib_srcs[$i]}]"; done
  [ "${#lib_dirs[@]}" -gt 0 ] || echo "  (none)"
  local name path src prop
  for name in cudart cublasLt cublas; do
    case "$name" in
      cudart) path="$cudart" src="$cudart_src" ;;
      cublasLt) path="$cublaslt" src="$cublaslt_src" ;;
      cublas) path="$cublas" src="$cublas_src" ;;
    esac
    if [ -z "$path" ]; then
      printf '  %-9s not found\n' "lib$name:"
      note "lib$name" "not found"
      continue
    fi
    [ -e "$path" ] || echo "  warning: $path (from the environment) does not exist"
    printf '  %-9s %s\n' "lib$name:" "$(describe "$path" "$src")"
    note "lib$name" "$path"
    prop="$(echo "$name" | tr '[:lower:]' '[:upper:]')"
    java_props+=("-Dqlora4j.cuda.$name=$path")
    # JMH's forked JVMs and anything else started from here see the same choice.
    export "QLORA4J_CUDA_$prop=$path"
  done
  if [ -n "$cudart" ] && [ -n "$cublas" ]; then
    local cm
    cm="$(basename "$cublas" | sed -n 's/^libcublas\.so\.\([0-9]*\).*/\1/p')"
    [ "$cm" = "$major" ] || echo "  warning: libcublas.so.$cm with libcudart.so.$major: the versions differ"
  fi
  [ "$major" = 12 ] && echo "  note: CUDA 12 runtime; qlora4j is built and tested against CUDA 13"
  # libcublas dlopens libcublasLt by soname: its directory must be on the loader's path.
  local d
  for d in "$(dirname "${cublaslt:-/}")" "$(dirname "${cublas:-/}")" "$(dirname "${cudart:-/}")"; do
    [ "$d" = / ] || [ ! -d "$d" ] && continue
    case ":${LD_LIBRARY_PATH:-}:" in
      *":$d:"*) ;;
      *) LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ;;
    esac
  done
  export LD_LIBRARY_PATH
  echo "  LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
}

# ------------------------------------------------------------------ (b) the GPU
detect_gpu() {
  local smi=""
  smi="$(command -v nvidia-smi 2>/dev/null || true)"
  [ -z "$smi" ] && [ -x /usr/lib/wsl/lib/nvidia-smi ] && smi=/usr/lib/wsl/lib/nvidia-smi
  if [ -n "$smi" ] && "$smi" -L >"$out/nvidia-smi.txt" 2>&1 && grep -q '^GPU ' "$out/nvidia-smi.txt"; then
    gpu=1
    cat "$out/nvidia-smi.txt"
    "$smi" --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv 2>/dev/null \
      | tee -a "$out/nvidia-smi.txt"
    { echo; "$smi"; } >>"$out/nvidia-smi.txt" 2>&1
    note gpu "$(sed -n 's/^GPU 0: \(.*\) (UUID.*/\1/p' "$out/nvidia-smi.txt" | head -n1)"
    note driver "$("$smi" --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -n1)"
  else
    [ -n "$smi" ] && { echo "nvidia-smi -L failed:"; sed 's/^/  /' "$out/nvidia-smi.txt"; }
    [ -z "$smi" ] && echo "nvidia-smi: not found" | tee "$out/nvidia-smi.txt"
    if [ -r /proc/driver/nvidia/version ]; then
      echo "an NVIDIA kernel driver is loaded ($(head -n1 /proc/driver/nvidia/version)), but no GPU answered nvidia-smi"
    fi
    echo
    echo "NO NVIDIA GPU/DRIVER DETECTED on this machine: the CUDA test cases will report skipped;"
    echo "the GPU benchmarks and PyTorch peers are left out (QLORA4J_CHECK_FORCE=1 runs them anyway)."
    note gpu "none detected"
  fi
}

# A GPU that nvidia-smi lists must be usable by the engine: otherwise every CUDA test would skip
# and the check would pass while testing nothing. Asks the engine itself (qlora4j info) and fails
# loudly, whatever was left out with --no-tests or --no-bench.
check_engine_sees_gpu() {
  local line
  line="$("$java" "${jvm_flags[@]}" "${java_props[@]+"${java_props[@]}"}" -cp "$(class_path)" dev.qlora4j.cli.Main info 2>&1 \
    | grep '^CUDA ')"
  echo "${line:-CUDA (no answer from qlora4j info)}"
  note engine "${line#CUDA }"
  if [ "$gpu" = 1 ] && ! printf '%s' "$line" | grep -q '^CUDA *runtime'; then
    echo
    echo "FAILURE: nvidia-smi lists a GPU, but the engine cannot use CUDA (above); every CUDA test would"
    echo "skip. Point QLORA4J_CUDA_CUDART/CUBLAS/CUBLASLT at a CUDA 13 (driver R580+) or 12.8+ runtime."
    failed=1
  fi
}

# ------------------------------------------------------------------ (c) tests
class_path() {
  local cp="" f
  for f in "$here"/lib/*.jar; do
    [ "$(basename "$f")" = benchmarks.jar ] && continue   # shaded copies of the same classes
    cp="$cp${cp:+:}$f"
  done
  for f in "$here"/lib/test-classes/*; do cp="$cp:$f"; done
  echo "$cp"
}

run_junit() { # NAME TIMEOUT SELECTORS...: one JUnit console run, counts to $out/junit-NAME.counts
  local name="$1" secs="$2" rc log="$out/junit-$1.log"
  shift 2
  echo "tests '$name': $*  (log: $log)"
  # shellcheck disable=SC2086
  bounded "$secs" "$java" "${jvm_flags[@]}" "${java_props[@]+"${java_props[@]}"}" -Xmx4g ${JAVA_OPTS:-} \
      -cp "$(class_path)" org.junit.platform.console.ConsoleLauncher execute \
      --disable-banner --disable-ansi-colors --details=tree --reports-dir "$out/junit-$name" "$@" >"$log" 2>&1
  rc=$?
  sed -n 's/^\[ *\([0-9][0-9]*\) tests \([a-z]*\) *\]$/\2=\1/p' "$log" >"$out/junit-$name.counts"
  echo "rc=$rc" >>"$out/junit-$name.counts"
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "  TIMED OUT after ${secs}s"
    echo "timeout=$secs" >>"$out/junit-$name.counts"
  fi
  # The summary, and every failure with its stack trace.
  sed -n '/^Failures (/,/^Test run finished/p' "$log" | head -n 200
  grep -E '^\[ *[0-9]+ tests (found|successful|skipped|aborted|failed) *\]$' "$log" | sed 's/^/  /'
  if [ "$rc" != 0 ]; then
    failed=1
    grep -q 'tests found' "$log" || { echo "  the launcher did not finish; last lines of its log:"; tail -n 20 "$log" | sed 's/^/    /'; }
  fi
}

# ------------------------------------------------------------------ (d) benchmarks
run_jmh() {
  local regex="${QLORA4J_BENCH_REGEX:-Cuda.*}" budget="${QLORA4J_BENCH_TIMEOUT:-300}"
  local jmh_args="${QLORA4J_JMH_ARGS:--f 1 -wi 3 -i 5 -w 1s -r 1s}"
  local names=() name i rc left deadline ran=0 bad=0 skipped=0
  "$java" "${jvm_flags[@]}" -jar "$here/lib/benchmarks.jar" -l "$regex" >"$out/jmh-list.txt" 2>&1
  while IFS= read -r name; do names+=("$name"); done \
    < <(sed -n '/^Benchmarks:/,$p' "$out/jmh-list.txt" | grep '^[a-z]')
  if [ "${#names[@]}" = 0 ]; then
    echo "no benchmark matches '$regex' in this build: nothing to run"
    note jmh "no benchmark matches $regex"
    return 0
  fi
  echo "${#names[@]} benchmark(s) match '$regex':"
  printf '  %s\n' "${names[@]}"
  if [ "$gpu" = 0 ] && [ "${QLORA4J_CHECK_FORCE:-0}" != 1 ]; then
    echo "skipped: no GPU"
    note jmh "skipped: no GPU"
    return 0
  fi
  echo "JMH $jmh_args, ${budget}s for all  (log: $out/jmh-gpu.log)"
  rm -rf "$out/jmh" "$out/jmh-gpu.json" "$out/jmh-gpu.log"
  mkdir -p "$out/jmh"
  # One JMH run per benchmark method: JMH writes its JSON only at the end of a run, so a run cut
  # off by the time limit loses only its own results.
  deadline=$((SECONDS + budget))
  for i in "${!names[@]}"; do
    name="${names[$i]}"
    left=$((deadline - SECONDS))
    if [ "$left" -lt 20 ]; then
      echo "out of time: $name and the rest are left out"
      skipped=$(( ${#names[@]} - i ))
      break
    fi
    echo "${name#dev.qlora4j.benchmarks.}"
    # Forked JVMs inherit these flags and properties (JMH passes the host VM's options on).
    # shellcheck disable=SC2086
    bounded "$left" "$java" "${jvm_flags[@]}" "${java_props[@]+"${java_props[@]}"}" ${JAVA_OPTS:-} \
        -jar "$here/lib/benchmarks.jar" "^${name//./\\.}\$" $jmh_args \
        -rf json -rff "$out/jmh/$(printf '%02d' "$i")-${name##*benchmarks.}.json" 2>&1 \
      | tee -a "$out/jmh-gpu.log" \
      | awk '/^# Run complete/ {done = 1; next}
             done && /^Benchmark / {table = 1}
             table && !/^Benchmark result is saved/ || /^# Parameters:/ || /ERROR|Exception/'
    rc="${PIPESTATUS[0]}"
    if [ "$rc" != 0 ]; then
      echo "$name: JMH exited with $rc$( { [ "$rc" = 124 ] || [ "$rc" = 137 ]; } && echo " (out of time)")"
      bad=$((bad + 1))
    else
      ran=$((ran + 1))
    fi
  done
  # All results in one JMH-format file: the arrays' elements joined.
  if compgen -G "$out/jmh/*.json" >/dev/null; then
    awk 'BEGIN {print "["} FNR == 1 && NR > 1 && seen {sep = 1}
         /^\[$/ || /^\]$/ {next}
         {if (sep) {print ","; sep = 0}; print; seen = 1}
         END {print "]"}' "$out"/jmh/*.json >"$out/jmh-gpu.json"
  fi
  grep -m 1 '# VM options:' "$out/jmh-gpu.log" 2>/dev/null
  note jmh "ran $ran of ${#names[@]}$( [ "$bad" -gt 0 ] && echo ", $bad failed")$( [ "$skipped" -gt 0 ] && echo ", $skipped left out of time")"
  if [ "$bad" -gt 0 ] || [ "$skipped" -gt 0 ]; then
    grep -m 20 -E 'ERROR|Exception|Error:' "$out/jmh-gpu.log" 2>/dev/null | sed 's/^/  /'
    failed=1
  fi
}

# ------------------------------------------------------------------ (e) PyTorch peers
run_torch() {
  local py found="" why="" rc
  while IFS= read -r py; do
    why="$("$py" -c 'import torch, sys
print(torch.__version__, end="")
sys.exit(0 if torch.cuda.is_available() else 3)' 2>/dev/null)"
    rc=$?
    if [ "$rc" = 0 ]; then found="$py"; break; fi
    [ "$rc" = 3 ] && echo "$py: torch $why, but torch.cuda.is_available() is False"
  done < <(pythons)
  if [ -z "$found" ]; then
    echo "no python3 with a CUDA-enabled PyTorch: peers left out"
    note torch "not found"
    return 0
  fi
  echo "$found: torch $why  (log: $out/torch-gpu.log)"
  rm -f "$out/torch-gpu.json"
  # shellcheck disable=SC2086
  bounded "${QLORA4J_TORCH_TIMEOUT:-180}" "$found" "$here/torch_peers.py" --json "$out/torch-gpu.json" ${QLORA4J_TORCH_ARGS:-} \
    2>&1 | tee "$out/torch-gpu.log"
  rc="${PIPESTATUS[0]}"
  if [ "$rc" != 0 ]; then
    echo "torch_peers.py exited with $rc; the table shows what it finished"
    note torch "failed (exit $rc)"
  else
    note torch "ran: torch $why"
  fi
}

# ------------------------------------------------------------------ (f) the table
results_table() { # FOOTER
  local py
  py="$(pythons | head -n1)"
  if [ -n "$py" ] && "$py" "$here/results_table.py" --dir "$out" --footer "$1"; then
    return 0
  fi
  # No python3: the raw results, tests last.
  echo "RESULTS (python3 not available for the table; raw results follow)"
  [ -f "$out/jmh-gpu.log" ] && sed -n '/^# Run complete/,$p' "$out/jmh-gpu.log" | grep -v '^#'
  [ -f "$out/torch-gpu.log" ] && grep '^torch ' "$out/torch-gpu.log"
  local f
  for f in "$out"/junit-*.counts; do
    [ -f "$f" ] || continue
    echo "tests $(basename "$f" .counts | sed 's/^junit-//'): $(tr '\n' ' ' <"$f")"
  done
  echo "$1"
}

main() {
  : >"$status_file"
  echo "qlora4j GPU check — $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname), results in $out"
  [ -f "$here/MANIFEST.txt" ] && sed -n '2,5p' "$here/MANIFEST.txt"
  if [ ! -x "$java" ]; then
    echo "check.sh: $java is missing: this folder was not made by cuda/gpu-check/prepare.sh (or is incomplete)"
    return 1
  fi
  note started "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  note host "$(hostname)"

  step "1/6 CUDA libraries"
  resolve_libraries
  step "2/6 GPU"
  detect_gpu
  check_engine_sees_gpu

  step "3/6 tests"
  if [ "$run_tests" = 1 ]; then
    if [ "$all_tests" = 1 ]; then
      run_junit all "${QLORA4J_TEST_TIMEOUT:-1800}" --select-package dev.qlora4j --exclude-package dev.qlora4j.cuda
    else
      run_junit cuda "${QLORA4J_TEST_TIMEOUT:-240}" --select-package dev.qlora4j --exclude-package dev.qlora4j.cuda \
          --include-tag cuda
    fi
    run_junit cuda-bindings "${QLORA4J_TEST_TIMEOUT:-60}" --select-package dev.qlora4j.cuda
  else
    echo "left out (--no-tests)"
  fi

  step "4/6 benchmarks (JMH)"
  if [ "$run_bench" = 1 ]; then run_jmh; else echo "left out (--no-bench)"; note jmh "left out"; fi

  step "5/6 PyTorch peers"
  if [ "$run_torch" = 0 ]; then
    echo "left out (--no-torch)"; note torch "left out"
  elif [ "$gpu" = 0 ] && [ "${QLORA4J_CHECK_FORCE:-0}" != 1 ]; then
    echo "skipped: no GPU"; note torch "skipped: no GPU"
  else
    run_torch
  fi

  note finished "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  step "6/6 results"
  results_table "check.sh: exit $failed after $((SECONDS - start)) s; logs in $out"
  return "$failed"
}

start=$SECONDS
main 2>&1 | tee "$out/check.log"
exit "${PIPESTATUS[0]}"
