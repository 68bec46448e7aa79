// The kernels of kernels.cu and dequant.cu (their headers are the contract), compiled for the host from
// the same sources their PTX is generated from, and registered under their C names, which are
// their .entry names, for cudaLibraryGetKernel. Each source gets a namespace of its own: under nvcc
// they are separate translation units, free to reuse helper names.
#include "cuda_emulation.h"

namespace engine_kernels {
#include "../../engine-cuda/src/main/resources/dev/qlora4j/engine/cuda/kernels.cu"

QL_REGISTER(fill)
QL_REGISTER(copy_strided)
QL_REGISTER(cast_contiguous)
QL_REGISTER(unary_f32)
QL_REGISTER(binary_f32)
QL_REGISTER(binary_scalar_f32)
QL_REGISTER(binary_contiguous_f32)
QL_REGISTER(reduce_f32)
QL_REGISTER(reduce_columns_f32)
QL_REGISTER(softmax_f32)
QL_REGISTER(rmsnorm_f32)
QL_REGISTER(rmsnorm_backward_f32)
QL_REGISTER(rope_f32)
QL_REGISTER(swiglu_f32)
QL_REGISTER(swiglu_backward_f32)
QL_REGISTER(causal_attention_f32)
QL_REGISTER(causal_attention_backward_q_f32)
QL_REGISTER(causal_attention_backward_kv_f32)
QL_REGISTER(embedding_f32)
QL_REGISTER(embedding_backward_f32)
QL_REGISTER(fill_above_diagonal_f32)
QL_REGISTER(pick_targets_f32)
QL_REGISTER(cross_entropy_backward_f32)
QL_REGISTER(adamw_f32)
}  // namespace engine_kernels

namespace nf4_kernels {
#include "../../nf4/src/main/resources/dev/qlora4j/nf4/cuda/dequant.cu"

QL_REGISTER(dequant_4bit)
QL_REGISTER(dequant_int8_rows)
}  // namespace nf4_kernels
