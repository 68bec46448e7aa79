// cuBLAS GEMM emulated on the host, with the semantics of NVIDIA's cuBLAS documentation
// (docs.nvidia.com/cuda/cublas, "cublas<t>gemm", "cublasGemmEx", "cublasGemmStridedBatchedEx"):
// column-major matrices, C = alpha * op(A) * op(B) + beta * C with op(X) an m x k (A) or k x n (B)
// matrix, host-pointer alpha/beta, beta == 0 meaning C is not read. Each element's dot product is
// accumulated in float in increasing k, then scaled: the reference the Java CPU backend is checked
// against, not a model of how cuBLAS tiles or rounds.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "cublas_emulated.h"
#include "emulator_internal.h"

#define QL_API extern "C" __attribute__((visibility("default")))

// Nothing to hold: work runs synchronously (no stream to remember) and every float product is
// computed in plain float (no math mode to remember). Handles only need to be told apart.
struct cublasContext {};

namespace {

std::mutex handlesMutex;
std::set<cublasHandle_t> handles;

bool live(cublasHandle_t handle) {
    std::lock_guard<std::mutex> lock(handlesMutex);
    return handles.count(handle) != 0;
}

using bf16 = uint16_t;

float toFloat(float x) {
    return x;
}

float toFloat(bf16 x) {
    uint32_t bits = static_cast<uint32_t>(x) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

// IEEE binary16, a distinct type so that overloads tell it from bfloat16's bits.
struct f16 {
    uint16_t bits;
};

// Exact: every binary16 value is a float. Subnormals scale the mantissa by 2^-24.
float toFloat(f16 x) {
    uint32_t sign = (x.bits & 0x8000u) << 16;
    uint32_t exp = (x.bits >> 10) & 0x1fu;
    uint32_t man = x.bits & 0x3ffu;
    float magnitude;
    if (exp == 0x1fu) {
        uint32_t bits = 0x7f800000u | (man << 13);
        std::memcpy(&magnitude, &bits, sizeof magnitude);
    } else if (exp == 0) {
        magnitude = std::ldexp(static_cast<float>(man), -24);
    } else {
        uint32_t bits = ((exp + 112u) << 23) | (man << 13);
        std::memcpy(&magnitude, &bits, sizeof magnitude);
    }
    uint32_t bits;
    std::memcpy(&bits, &magnitude, sizeof bits);
    bits |= sign;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

void store(float* out, float x) {
    *out = x;
}

// Round to nearest even; a NaN stays a (quiet) NaN instead of rounding into infinity.
void store(bf16* out, float x) {
    uint32_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    if ((bits & 0x7fffffffu) > 0x7f800000u) {
        *out = static_cast<bf16>((bits >> 16) | 0x40u);
        return;
    }
    *out = static_cast<bf16>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

size_t elementBytes(cudaDataType type) {
    return type == CUDA_R_16BF || type == CUDA_R_16F ? 2 : 4;
}

struct Gemm {
    bool transA, transB;
    int m, n, k;
    float alpha, beta;
    const void* a;
    int lda;
    long long strideA;
    const void* b;
    int ldb;
    long long strideB;
    void* c;
    int ldc;
    long long strideC;
    int batches;
    cudaDataType inType, outType;
};

// One matrix product of the batch.
template <typename In, typename Out>
void multiply(const Gemm& g, const In* a, const In* b, Out* c) {
    bool product = g.alpha != 0.0f && g.k > 0;  // otherwise A and B are not read, as in BLAS
    std::vector<float> column(product ? g.k : 0);
    std::vector<float> dot(g.m, 0.0f);
    for (int j = 0; j < g.n; j++) {
        if (product) {
            for (int p = 0; p < g.k; p++) {
                column[p] = toFloat(g.transB ? b[j + static_cast<size_t>(p) * g.ldb]
                                             : b[p + static_cast<size_t>(j) * g.ldb]);
            }
            if (g.transA) {
                // op(A) row i is column i of A: contiguous, one running sum per element.
                for (int i = 0; i < g.m; i++) {
                    const In* row = a + static_cast<size_t>(i) * g.lda;
                    float sum = 0.0f;
                    for (int p = 0; p < g.k; p++) {
                        sum += toFloat(row[p]) * column[p];
                    }
                    dot[i] = sum;
                }
            } else {
                // Walks A column by column; each dot[i] still gets its terms in increasing p.
                std::fill(dot.begin(), dot.end(), 0.0f);
                for (int p = 0; p < g.k; p++) {
                    const In* col = a + static_cast<size_t>(p) * g.lda;
                    float bp = column[p];
                    for (int i = 0; i < g.m; i++) {
                        dot[i] += toFloat(col[i]) * bp;
                    }
                }
            }
        }
        Out* out = c + static_cast<size_t>(j) * g.ldc;
        for (int i = 0; i < g.m; i++) {
            float r = product ? g.alpha * dot[i] : 0.0f;
            if (g.beta != 0.0f) {
                float scaled = g.beta * toFloat(out[i]);
                r = product ? r + scaled : scaled;
            }
            store(&out[i], r);
        }
    }
}

template <typename In, typename Out>
void run(const Gemm& g) {
    for (int batch = 0; batch < g.batches; batch++) {
        multiply(g, static_cast<const In*>(g.a) + batch * g.strideA, static_cast<const In*>(g.b) + batch * g.strideB,
                 static_cast<Out*>(g.c) + batch * g.strideC);
    }
}

// A real GPU faults (or silently reads another buffer) when an operand reaches outside its
// allocation; the emulator says so instead.
bool inside(const char* what, const void* base, long long stride, int batches, int rows, int cols, int ld,
            cudaDataType type) {
    size_t es = elementBytes(type);
    size_t bytes = (static_cast<size_t>(cols - 1) * ld + rows) * es;
    for (int batch = 0; batch < batches; batch++) {
        auto p = reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(base) +
                                               static_cast<uintptr_t>(batch * stride * static_cast<long long>(es)));
        if (!qlemu::insideDeviceAllocation(p, bytes)) {
            qlemu::diagnose(std::string("cuBLAS GEMM: matrix ") + what + " of batch " + std::to_string(batch) + " (" +
                                std::to_string(rows) + " x " + std::to_string(cols) + ", ld " + std::to_string(ld) +
                                ") is not inside one device allocation",
                            true);
            return false;
        }
    }
    return true;
}

bool validAlgo(cublasGemmAlgo_t algo) {
    return algo == CUBLAS_GEMM_DEFAULT || (algo >= CUBLAS_GEMM_ALGO0 && algo <= CUBLAS_GEMM_ALGO23) ||
           (algo >= CUBLAS_GEMM_DEFAULT_TENSOR_OP && algo <= CUBLAS_GEMM_ALGO15_TENSOR_OP) ||
           algo == CUBLAS_GEMM_AUTOTUNE;
}

// The cublasGemmEx table of supported type combinations, restricted to the rows qlora4j uses:
// CUBLAS_COMPUTE_32F takes 32F x 32F -> 32F, 16BF x 16BF -> 16BF or 32F, and 16F x 16F -> 32F;
// CUBLAS_COMPUTE_32F_FAST_TF32 takes only 32F x 32F -> 32F (computed here in plain float). The
// table's 16F x 16F -> 16F row is not emulated and answers NOT_SUPPORTED.
bool supportedTypes(cublasComputeType_t compute, cudaDataType a, cudaDataType b, cudaDataType c) {
    if (a != b) {
        return false;
    }
    if (a == CUDA_R_32F) {
        return c == CUDA_R_32F && (compute == CUBLAS_COMPUTE_32F || compute == CUBLAS_COMPUTE_32F_FAST_TF32);
    }
    if (a == CUDA_R_16F) {
        return compute == CUBLAS_COMPUTE_32F && c == CUDA_R_32F;
    }
    return a == CUDA_R_16BF && compute == CUBLAS_COMPUTE_32F && (c == CUDA_R_16BF || c == CUDA_R_32F);
}

bool validOperation(cublasOperation_t op) {
    return op == CUBLAS_OP_N || op == CUBLAS_OP_T || op == CUBLAS_OP_C;
}

int atLeastOne(int x) {
    return x > 1 ? x : 1;
}

// The checks and return codes of the cublasGemmEx / cublasGemmStridedBatchedEx documentation.
cublasStatus_t gemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k,
                    const void* alpha, const void* A, cudaDataType Atype, int lda, long long strideA, const void* B,
                    cudaDataType Btype, int ldb, long long strideB, const void* beta, void* C, cudaDataType Ctype,
                    int ldc, long long strideC, int batchCount, cublasComputeType_t computeType,
                    cublasGemmAlgo_t algo) {
    if (!live(handle)) {
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    // For real matrices CUBLAS_OP_C (conjugate transpose) is the transpose.
    if (!validOperation(transa) || !validOperation(transb) || m < 0 || n < 0 || k < 0 || batchCount < 0 ||
        lda < atLeastOne(transa == CUBLAS_OP_N ? m : k) || ldb < atLeastOne(transb == CUBLAS_OP_N ? k : n) ||
        ldc < atLeastOne(m) || alpha == nullptr || beta == nullptr || C == nullptr) {
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    if (!supportedTypes(computeType, Atype, Btype, Ctype) || !validAlgo(algo)) {
        return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    if (m == 0 || n == 0 || batchCount == 0) {
        return CUBLAS_STATUS_SUCCESS;
    }
    if (qlemu::deviceFailed()) {
        return CUBLAS_STATUS_EXECUTION_FAILED;
    }
    Gemm g{transa != CUBLAS_OP_N, transb != CUBLAS_OP_N,
           m, n, k,
           *static_cast<const float*>(alpha), *static_cast<const float*>(beta),
           A, lda, strideA,
           B, ldb, strideB,
           C, ldc, strideC,
           batchCount, Atype, Ctype};
    bool product = g.alpha != 0.0f && k > 0;
    if ((product && (!inside("A", A, strideA, batchCount, g.transA ? k : m, g.transA ? m : k, lda, Atype) ||
                     !inside("B", B, strideB, batchCount, g.transB ? n : k, g.transB ? k : n, ldb, Btype))) ||
        !inside("C", C, strideC, batchCount, m, n, ldc, Ctype)) {
        return CUBLAS_STATUS_EXECUTION_FAILED;
    }
    if (Atype == CUDA_R_32F) {
        run<float, float>(g);
    } else if (Atype == CUDA_R_16F) {
        run<f16, float>(g);
    } else if (Ctype == CUDA_R_16BF) {
        run<bf16, bf16>(g);
    } else {
        run<bf16, float>(g);
    }
    return CUBLAS_STATUS_SUCCESS;
}

}  // namespace

QL_API cublasStatus_t cublasCreate_v2(cublasHandle_t* handle) {
    if (handle == nullptr) {
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    std::lock_guard<std::mutex> lock(handlesMutex);
    *handle = new cublasContext();
    handles.insert(*handle);
    return CUBLAS_STATUS_SUCCESS;
}

QL_API cublasStatus_t cublasDestroy_v2(cublasHandle_t handle) {
    std::lock_guard<std::mutex> lock(handlesMutex);
    if (handles.erase(handle) == 0) {
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    delete handle;
    return CUBLAS_STATUS_SUCCESS;
}

QL_API cublasStatus_t cublasGetVersion_v2(cublasHandle_t, int* version) {
    if (version == nullptr) {
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    *version = CUBLAS_VERSION;
    return CUBLAS_STATUS_SUCCESS;
}

QL_API cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t) {
    return live(handle) ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_NOT_INITIALIZED;
}

QL_API cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
    if (!live(handle)) {
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    int base = mode & ~CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION;
    return base >= CUBLAS_DEFAULT_MATH && base <= CUBLAS_FP32_EMULATED_BF16X9_MATH ? CUBLAS_STATUS_SUCCESS
                                                                                    : CUBLAS_STATUS_INVALID_VALUE;
}

QL_API cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m,
                                   int n, int k, const void* alpha, const void* A, cudaDataType Atype, int lda,
                                   const void* B, cudaDataType Btype, int ldb, const void* beta, void* C,
                                   cudaDataType Ctype, int ldc, cublasComputeType_t computeType,
                                   cublasGemmAlgo_t algo) {
    return gemm(handle, transa, transb, m, n, k, alpha, A, Atype, lda, 0, B, Btype, ldb, 0, beta, C, Ctype, ldc, 0, 1,
                computeType, algo);
}

QL_API cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t handle, cublasOperation_t transa,
                                                 cublasOperation_t transb, int m, int n, int k, const void* alpha,
                                                 const void* A, cudaDataType Atype, int lda, long long int strideA,
                                                 const void* B, cudaDataType Btype, int ldb, long long int strideB,
                                                 const void* beta, void* C, cudaDataType Ctype, int ldc,
                                                 long long int strideC, int batchCount,
                                                 cublasComputeType_t computeType, cublasGemmAlgo_t algo) {
    return gemm(handle, transa, transb, m, n, k, alpha, A, Atype, lda, strideA, B, Btype, ldb, strideB, beta, C, Ctype,
                ldc, strideC, batchCount, computeType, algo);
}

namespace {

struct StatusText {
    cublasStatus_t status;
    const char* name;
    const char* text;
};

// Names from cublas_api.h; texts after the meanings the cuBLAS documentation gives each status.
constexpr StatusText kStatuses[] = {
    {CUBLAS_STATUS_SUCCESS, "CUBLAS_STATUS_SUCCESS", "the operation completed successfully"},
    {CUBLAS_STATUS_NOT_INITIALIZED, "CUBLAS_STATUS_NOT_INITIALIZED", "the cuBLAS library was not initialized"},
    {CUBLAS_STATUS_ALLOC_FAILED, "CUBLAS_STATUS_ALLOC_FAILED", "resource allocation failed inside the cuBLAS library"},
    {CUBLAS_STATUS_INVALID_VALUE, "CUBLAS_STATUS_INVALID_VALUE",
     "an unsupported value or parameter was passed to the function"},
    {CUBLAS_STATUS_ARCH_MISMATCH, "CUBLAS_STATUS_ARCH_MISMATCH",
     "the function requires a feature absent from the device architecture"},
    {CUBLAS_STATUS_MAPPING_ERROR, "CUBLAS_STATUS_MAPPING_ERROR", "an access to GPU memory space failed"},
    {CUBLAS_STATUS_EXECUTION_FAILED, "CUBLAS_STATUS_EXECUTION_FAILED", "the GPU program failed to execute"},
    {CUBLAS_STATUS_INTERNAL_ERROR, "CUBLAS_STATUS_INTERNAL_ERROR", "an internal cuBLAS operation failed"},
    {CUBLAS_STATUS_NOT_SUPPORTED, "CUBLAS_STATUS_NOT_SUPPORTED", "the functionality requested is not supported"},
    {CUBLAS_STATUS_LICENSE_ERROR, "CUBLAS_STATUS_LICENSE_ERROR",
     "the functionality requested requires some license"},
};

const StatusText* statusText(cublasStatus_t status) {
    for (const StatusText& s : kStatuses) {
        if (s.status == status) {
            return &s;
        }
    }
    return nullptr;
}

}  // namespace

QL_API const char* cublasGetStatusName(cublasStatus_t status) {
    const StatusText* s = statusText(status);
    return s != nullptr ? s->name : "unrecognized cuBLAS status";
}

QL_API const char* cublasGetStatusString(cublasStatus_t status) {
    const StatusText* s = statusText(status);
    return s != nullptr ? s->text : "unrecognized cuBLAS status";
}
