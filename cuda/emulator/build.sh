#!/usr/bin/env bash
# Builds the host emulator of the CUDA runtime and cuBLAS: OUTDIR/libqlora4j-cuda-emulator.so.
#   build.sh OUTDIR             build, unless the library is newer than every source
#   build.sh --selftest OUTDIR  build, then compile and run the self-test (also against the
#                               portable ucontext fiber switch)
# Needs g++ (or $CXX) and NVIDIA's CUDA headers ($CUDA_HOME/include, default /usr/local/cuda),
# whose prototypes and error codes the emulator implements. Without them it exits non-zero and
# builds nothing; the Maven build carries on and the emulated CUDA tests skip.
set -euo pipefail

usage() {
    echo "usage: $0 [--selftest] OUTDIR" >&2
    exit 2
}

selftest=false
if [[ ${1:-} == --selftest ]]; then
    selftest=true
    shift
fi
[[ $# -eq 1 ]] || usage
out=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cxx=${CXX:-g++}
cuda_include=${CUDA_HOME:-/usr/local/cuda}/include
lib=$out/libqlora4j-cuda-emulator.so

if ! command -v "$cxx" >/dev/null 2>&1; then
    echo "cuda-emulator: $cxx not found; the CUDA emulator is not built and the emulated CUDA tests will be skipped" >&2
    exit 1
fi
if [[ ! -f $cuda_include/cuda_runtime_api.h ]]; then
    echo "cuda-emulator: no cuda_runtime_api.h in $cuda_include (set CUDA_HOME); the CUDA emulator is not built" \
        "and the emulated CUDA tests will be skipped" >&2
    exit 1
fi

# -ffp-contract=off: no fused multiply-adds, so kernels and GEMM round every product and sum as
# written, as the Java CPU backend does (the PTX is built with nvcc --fmad=false for the same reason).
# -fno-strict-aliasing: kernel sources reinterpret device memory through pointer casts, as CUDA
# code does, which type-based alias analysis would be entitled to miscompile.
flags=(-std=c++17 -O2 -fPIC -fvisibility=hidden -ffp-contract=off -fno-strict-aliasing -Wall -Wextra -I"$cuda_include" -I"$here")
mkdir -p "$out/obj"

# The library's sources: this directory's headers, sources and link map (not the self-test's),
# this script, and the kernel sources the .cpp files include by relative path.
sources() {
    find "$here" -maxdepth 1 -type f ! -name 'selftest*' \( -name '*.h' -o -name '*.cpp' -o -name '*.map' \
        -o -name build.sh \)
    sed -n 's|^#include "\(\.\./[^"]*\)".*|'"$here"'/\1|p' "$here"/*.cpp
}

up_to_date() {
    [[ -f $lib ]] || return 1
    local source
    while IFS= read -r source; do
        if [[ ! -e $source || $source -nt $lib ]]; then
            return 1
        fi
    done < <(sources)
}

# Compiles sources in parallel (two cores are the common case), one object each; fails if any fails.
compile() {
    local dir=$1 extra=$2
    shift 2
    local pids=() source status=0
    for source in "$@"; do
        # shellcheck disable=SC2086 # $extra is empty or one flag
        "$cxx" "${flags[@]}" $extra -c "$source" -o "$dir/$(basename "$source").o" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do
        wait "$pid" || status=1
    done
    return $status
}

library_sources=()
for source in "$here"/*.cpp; do
    [[ $(basename "$source") == selftest.cpp ]] || library_sources+=("$source")
done

link_library() {
    local objects=$1 target=$2
    "$cxx" -shared -Wl,--version-script="$here/exports.map" -Wl,-z,defs -o "$target.tmp" "$objects"/*.o -lpthread
    mv -f "$target.tmp" "$target"
}

if up_to_date; then
    echo "cuda-emulator: $lib is up to date"
else
    echo "cuda-emulator: building $lib"
    rm -f "$out"/obj/*.o
    compile "$out/obj" "" "${library_sources[@]}"
    link_library "$out/obj" "$lib"
fi

if $selftest; then
    test_dir=$out/selftest
    mkdir -p "$test_dir/ucontext-objects" "$test_dir/ucontext"
    "$cxx" "${flags[@]}" -x c++ -include cuda_emulation.h -c "$here/selftest_kernels.cu" -o "$test_dir/selftest_kernels.o"
    "$cxx" "${flags[@]}" "$here/selftest.cpp" "$test_dir/selftest_kernels.o" -o "$test_dir/selftest" \
        -L"$out" -l:libqlora4j-cuda-emulator.so -Wl,-rpath,'$ORIGIN/..'
    # The PTX beside each kernel source, which the self-test checks against the compiled kernels.
    ptx=()
    while IFS= read -r source; do
        [[ $source == *.cu ]] && ptx+=("${source%.cu}.ptx")
    done < <(sources)
    "$test_dir/selftest" "${ptx[@]}"

    # The same library with the portable fiber switch, which other architectures use.
    cp "$out"/obj/*.o "$test_dir/ucontext-objects/"
    compile "$test_dir/ucontext-objects" -DQLEMU_UCONTEXT "$here/block_runner.cpp"
    link_library "$test_dir/ucontext-objects" "$test_dir/ucontext/libqlora4j-cuda-emulator.so"
    echo "cuda-emulator: self-test with the ucontext fiber switch"
    LD_LIBRARY_PATH=$test_dir/ucontext "$test_dir/selftest" "${ptx[@]}"
fi
