#!/usr/bin/env bash
# Regenerates, with a real jextract, the bindings that src/main/java/dev/qlora4j/cuda/
# cuda_runtime_h.java and cublas_api_h.java were written by hand to match.
#
# jextract (22 or later, https://jdk.java.net/jextract) has no Maven artifact and cannot be
# installed on our build machines, so the bindings are hand-written in its shape and checked in,
# as jextract's own guide recommends for generated code. Run this wherever a jextract and the CUDA
# headers are at hand, when moving to a new CUDA major or adding a function:
#
#   JEXTRACT=/path/to/jextract CUDA_HOME=/usr/local/cuda ./regen.sh [output-dir]
#
# It writes to output-dir (default: a new temporary directory) and never over the checked-in
# files, because ours differ from jextract's output on purpose:
#   - loading: the holders use CudaLibraries.cudart()/cublas() (property, environment, CUDA_HOME,
#     standard directories, CUDA 13 then 12 sonames, cublasLt before cublas), not --library;
#   - linker options: cudaGetErrorName/String, cudaGetLastError/PeekAtLastError and
#     cublasGetStatusName/String are linked with Linker.Option.critical(false), which jextract
#     cannot emit;
#   - dim3 is a DIM3 layout plus a dim3(allocator, x, y, z) helper rather than a struct class;
#   - pointers are plain ADDRESS (jextract's C_POINTER has an unbounded target layout);
#   - only the constants listed below, as getters returning the value.
# So: compare each function's descriptor and each constant's value with ours, and carry over
# what changed. The tests (CudaRuntimeBindingsTest, CublasBindingsTest) make the same comparison
# against the installed headers on every build that has them, and RegenScriptTest keeps the
# lists below equal to what the classes bind.
#
# If jextract stops with "X depends on Y which has been excluded", add Y with the matching
# --include-typedef / --include-struct option below.
set -euo pipefail

JEXTRACT=${JEXTRACT:-jextract}
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
OUT=${1:-$(mktemp -d)}
CUDA_MAJOR=13

CUDART_FUNCTIONS=(
  cudaRuntimeGetVersion cudaDriverGetVersion cudaGetDeviceCount cudaSetDevice cudaGetDevice
  cudaDeviceGetAttribute cudaDeviceSynchronize cudaMemGetInfo
  cudaMalloc cudaFree cudaMallocAsync cudaFreeAsync cudaMallocHost cudaFreeHost
  cudaMemcpy cudaMemcpyAsync cudaMemset cudaMemsetAsync
  cudaStreamCreateWithFlags cudaStreamDestroy cudaStreamSynchronize
  cudaEventCreate cudaEventCreateWithFlags cudaEventRecord cudaEventSynchronize
  cudaEventElapsedTime cudaEventDestroy
  cudaLibraryLoadData cudaLibraryUnload cudaLibraryGetKernel cudaLaunchKernel
  cudaGetLastError cudaPeekAtLastError cudaGetErrorName cudaGetErrorString
)
CUDART_CONSTANTS=(
  cudaSuccess cudaErrorInitializationError cudaErrorMemoryAllocation cudaErrorStubLibrary
  cudaErrorInsufficientDriver cudaErrorCallRequiresNewerDriver cudaErrorJitCompilerNotFound
  cudaErrorDevicesUnavailable cudaErrorNoDevice
  cudaErrorDeviceNotLicensed cudaErrorSoftwareValidityNotEstablished cudaErrorStartupFailure
  cudaErrorSystemNotReady cudaErrorSystemDriverMismatch cudaErrorCompatNotSupportedOnDevice
  cudaMemcpyHostToDevice cudaMemcpyDeviceToHost cudaMemcpyDeviceToDevice cudaMemcpyDefault
  cudaStreamDefault cudaStreamNonBlocking cudaEventDefault cudaEventDisableTiming
  cudaDevAttrMultiProcessorCount cudaDevAttrMemoryClockRate
  cudaDevAttrComputeCapabilityMajor cudaDevAttrComputeCapabilityMinor
)
CUDART_TYPES=(cudaError_t cudaStream_t cudaEvent_t cudaLibrary_t cudaKernel_t dim3)

# The _v2 names are what cublas_v2.h's macros (cublasCreate -> cublasCreate_v2, ...) resolve to.
CUBLAS_FUNCTIONS=(
  cublasCreate_v2 cublasDestroy_v2 cublasSetStream_v2 cublasSetMathMode cublasGetVersion_v2
  cublasGemmEx cublasGemmStridedBatchedEx cublasGetStatusName cublasGetStatusString
)
CUBLAS_CONSTANTS=(
  CUBLAS_STATUS_SUCCESS CUBLAS_STATUS_NOT_INITIALIZED CUBLAS_STATUS_ALLOC_FAILED
  CUBLAS_STATUS_INVALID_VALUE CUBLAS_STATUS_ARCH_MISMATCH CUBLAS_STATUS_MAPPING_ERROR
  CUBLAS_STATUS_EXECUTION_FAILED CUBLAS_STATUS_INTERNAL_ERROR CUBLAS_STATUS_NOT_SUPPORTED
  CUBLAS_STATUS_LICENSE_ERROR
  CUBLAS_OP_N CUBLAS_OP_T CUBLAS_DEFAULT_MATH CUBLAS_PEDANTIC_MATH CUBLAS_TF32_TENSOR_OP_MATH
  CUBLAS_COMPUTE_32F CUBLAS_COMPUTE_32F_FAST_TF32 CUBLAS_GEMM_DEFAULT
  CUDA_R_32F CUDA_R_16F CUDA_R_16BF
)
CUBLAS_TYPES=(cublasStatus_t cublasHandle_t cudaStream_t cublasOperation_t cublasMath_t
  cublasComputeType_t cublasGemmAlgo_t cudaDataType)

# Prints --include-<kind> NAME for each NAME.
includes() {
  local kind=$1
  shift
  local name
  for name in "$@"; do
    printf -- '--include-%s\n%s\n' "$kind" "$name"
  done
}

run() {
  local class=$1 library=$2 header=$3 out=$4
  shift 4
  mkdir -p "$out"
  # One option per line from includes(); mapfile keeps each as one argument.
  local -a filters
  mapfile -t filters < <("$@")
  "$JEXTRACT" \
    --output "$out" \
    --target-package dev.qlora4j.cuda \
    --header-class-name "$class" \
    --include-dir "$CUDA_HOME/include" \
    --library ":$CUDA_HOME/lib64/$library" \
    "${filters[@]}" \
    "$CUDA_HOME/include/$header"
}

cudart_filters() {
  includes function "${CUDART_FUNCTIONS[@]}"
  includes constant "${CUDART_CONSTANTS[@]}"
  includes typedef "${CUDART_TYPES[@]}"
  includes struct dim3
}

cublas_filters() {
  includes function "${CUBLAS_FUNCTIONS[@]}"
  includes constant "${CUBLAS_CONSTANTS[@]}"
  includes typedef "${CUBLAS_TYPES[@]}"
}

run cuda_runtime_h "libcudart.so.$CUDA_MAJOR" cuda_runtime_api.h "$OUT/cudart" cudart_filters
if [[ -f "$CUDA_HOME/include/cublas_api.h" ]]; then
  run cublas_api_h "libcublas.so.$CUDA_MAJOR" cublas_api.h "$OUT/cublas" cublas_filters
else
  echo "no $CUDA_HOME/include/cublas_api.h: cuBLAS bindings not regenerated" >&2
fi
echo "jextract output in $OUT; compare descriptors and constant values with src/main/java/dev/qlora4j/cuda/"
