// qlora4j engine kernels for the CUDA backend (dev.qlora4j.engine.cuda.CudaBackend). This header is
// the kernel contract; KernelContractTest checks its code tables against the Java enums and its
// kernel list against the launches in CudaBackend and the host emulator's registrations. The numbers
// follow the CPU backend (dev.qlora4j.engine.cpu, DType, FloatBits). kernels.ptx beside this file is
// generated from it by cuda/ptx/build-ptx.sh, whose one set of nvcc flags includes --fmad=false:
// Java never fuses a multiply and an add, so neither may the GPU, or results would drift from the
// CPU's by a rounding (a host compiler needs the same: g++ -ffp-contract=off).
//
// Codes. A kernel receives each of these as an int: the Java constant's ordinal, listed here in
// order (new Java constants therefore go at the end):
//   DType:    0 F32, 1 BF16, 2 F16, 3 I8, 4 U8, 5 I32
//   UnaryOp:  0 NEG, 1 ABS, 2 EXP, 3 LOG, 4 SQRT, 5 RSQRT, 6 SQUARE, 7 RECIPROCAL, 8 TANH, 9 SIGMOID, 10 SILU, 11 RELU
//   BinaryOp: 0 ADD, 1 SUB, 2 MUL, 3 DIV, 4 MAX, 5 MIN
//   ReduceOp: 0 SUM, 1 MEAN, 2 MAX, 3 MIN
//
// Kernels (argument order as declared below; "view" = QlView, "shape" = QlShape, passed by value):
//   grid-stride: fill, copy_strided, cast_contiguous, unary_f32, binary_f32, binary_contiguous_f32,
//                binary_scalar_f32, reduce_columns_f32, rope_f32, swiglu_f32, swiglu_backward_f32,
//                embedding_f32, embedding_backward_f32, fill_above_diagonal_f32, pick_targets_f32,
//                cross_entropy_backward_f32, adamw_f32
//   row:         reduce_f32, softmax_f32, rmsnorm_f32, rmsnorm_backward_f32, causal_attention_f32, causal_attention_backward_q_f32,
//                causal_attention_backward_kv_f32
//
// Launch shapes (CudaContext.launch and launchRows):
// - every block has 256 threads (QL_ROW_THREADS; CudaContext.BLOCK);
// - a grid-stride kernel over n units gets min(ceil(n / 256), 65535) blocks and loops
//   i = blockIdx.x·blockDim.x + threadIdx.x, i += gridDim.x·blockDim.x while i < n: correct for any
//   1-D grid and block, so the grid cap never drops work;
// - a row kernel over r rows gets min(r, 65535) blocks; block b takes rows b, b + gridDim.x, ...;
//   its 256 threads fold strided shares of the row and combine them in a shared-memory tree.
//
// Bounds rules:
// - a kernel reads and writes only elements below the counts it is given (n, rows·cols, ...); the
//   host passes counts that match the tensors it allocated, and skips the launch when there is no
//   work (CUDA refuses a grid of 0 blocks);
// - indices (embedding ids, cross-entropy targets) are not range-checked here: the engine checks them
//   on the host before they reach the device (dev.qlora4j.engine.Indices), so a kernel may use them
//   as offsets directly; a target equal to the ignore index is skipped, never dereferenced;
// - strided operands arrive as views (offset + strides in elements, rank <= QL_MAX_RANK); outputs
//   are contiguous unless a kernel says otherwise.
//
// Source rules, because a host emulator (cuda/emulator/) compiles this same file with g++ under a
// small header that defines __global__, __device__, __shared__, threadIdx, blockIdx, blockDim,
// gridDim, __syncthreads and atomicAdd:
// - no #include; math only through expf, logf, sqrtf, tanhf and fabsf;
// - no warp intrinsics, no dynamic shared memory: block reductions are shared-memory trees.

#define QL_MAX_RANK 8
#define QL_ROW_THREADS 256

// A strided view: element offset plus element strides, in the order of the shape's axes.
typedef struct {
    long long offset;
    long long strides[QL_MAX_RANK];
} QlView;

// A row-major logical shape; dims beyond rank are unused.
typedef struct {
    int rank;
    int pad;
    long long dims[QL_MAX_RANK];
} QlShape;

// ---------------------------------------------------------------------------------------------
// Scalar helpers

// Bit casts through a union: nvcc and g++ both define this punning.
typedef union {
    float f;
    unsigned int u;
} QlBits;

static __device__ unsigned int ql_float_bits(float f) {
    QlBits b;
    b.f = f;
    return b.u;
}

static __device__ float ql_bits_float(unsigned int u) {
    QlBits b;
    b.u = u;
    return b.f;
}

// NaN by its bits: no dependence on how the host header declares isnan, nor on fast-math flags.
static __device__ bool ql_is_nan(float f) {
    return (ql_float_bits(f) & 0x7FFFFFFFu) > 0x7F800000u;
}

// FloatBits.floatToBf16: round to nearest even by adding 0x7FFF plus the lowest kept bit; NaN is
// kept quiet, as truncating its payload could otherwise read as infinity.
static __device__ unsigned short ql_float_to_bf16(float f) {
    unsigned int bits = ql_float_bits(f);
    if (ql_is_nan(f)) {
        return (unsigned short) ((bits >> 16) | 0x0040u);
    }
    return (unsigned short) ((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

// bf16 is the top half of an f32: widening is exact.
static __device__ float ql_bf16_to_float(unsigned short h) {
    return ql_bits_float((unsigned int) h << 16);
}

// Float.floatToFloat16 as the JDK runs it: binary16, round to nearest even, by the JDK's own
// algorithm. A NaN comes out as the JDK's x86 and ARM intrinsics make it (its portable Java code
// differs, and only NaN-ness is specified): quiet, with the high bits of its payload.
static __device__ unsigned short ql_float_to_f16(float f) {
    unsigned int bits = ql_float_bits(f);
    unsigned int sign = (bits >> 16) & 0x8000u;
    if (ql_is_nan(f)) {
        return (unsigned short) (sign | 0x7E00u | ((bits >> 13) & 0x3FFu));
    }
    float a = fabsf(f);
    // At or above binary16's largest value plus half an ulp: infinity.
    if (a >= 65520.0f) {
        return (unsigned short) (sign | 0x7C00u);
    }
    // At or below half the smallest subnormal: zero.
    if (a <= 2.98023223876953125e-8f) {
        return (unsigned short) sign;
    }
    int exp = (int) ((bits >> 23) & 0xFFu) - 127;
    int expdelta = 0;
    unsigned int msb = 0;
    if (exp < -14) {
        // A binary16 subnormal: shift further by how far below the normal range, hidden bit included.
        expdelta = -14 - exp;
        exp = -15;
        msb = 0x00800000u;
    }
    unsigned int signif = (bits & 0x007FFFFFu) | msb;
    unsigned int truncated = signif >> (13 + expdelta);
    unsigned int lsb = signif & (1u << (13 + expdelta));
    unsigned int round = signif & (1u << (12 + expdelta));
    unsigned int sticky = signif & ((1u << (12 + expdelta)) - 1u);
    if (round != 0 && (lsb | sticky) != 0) {
        truncated++;
    }
    // A carry out of the significand adds into the exponent, as it should.
    return (unsigned short) (sign | ((((unsigned int) (exp + 15)) << 10) + truncated));
}

// Float.float16ToFloat as the JDK runs it: exact; a NaN is quieted, its payload kept (the
// intrinsics' result, as for ql_float_to_f16).
static __device__ float ql_f16_to_float(unsigned short h) {
    unsigned int sign = (unsigned int) (h & 0x8000u) << 16;
    unsigned int e = (h >> 10) & 0x1Fu;
    unsigned int m = h & 0x3FFu;
    if (e == 0) {
        // Zero or subnormal: m · 2^-24, exact in f32.
        float v = (float) m * 5.9604644775390625e-8f;
        return sign != 0 ? -v : v;
    }
    if (e == 31) {
        return ql_bits_float(m == 0 ? sign | 0x7F800000u : sign | 0x7FC00000u | (m << 13));
    }
    return ql_bits_float(sign | ((e - 15 + 127) << 23) | (m << 13));
}

// Java's (int) Math.rint(v) saturated to [lo, hi], NaN giving 0: DType.writeFloat for the integer
// types. Clamping before rounding gives the same result since lo and hi are integers. Below 2^23,
// adding and subtracting 2^23 rounds to an integer, ties to even; from 2^23 on floats are integers.
static __device__ int ql_round_saturate(float v, int lo, int hi) {
    if (ql_is_nan(v)) {
        return 0;
    }
    if (v <= (float) lo) {
        return lo;
    }
    if (v >= (float) hi) {
        return hi;
    }
    float a = fabsf(v);
    if (a < 8388608.0f) {
        a = (a + 8388608.0f) - 8388608.0f;
    }
    int r = (int) a;
    return v < 0 ? -r : r;
}

// DType.readFloat: element `index` of a buffer of dtype `type`, as f32.
static __device__ float ql_read_float(const void* p, int type, long long index) {
    switch (type) {
        case 0: return ((const float*) p)[index];
        case 1: return ql_bf16_to_float(((const unsigned short*) p)[index]);
        case 2: return ql_f16_to_float(((const unsigned short*) p)[index]);
        case 3: return (float) ((const signed char*) p)[index];
        case 4: return (float) ((const unsigned char*) p)[index];
        default: return (float) ((const int*) p)[index];
    }
}

// DType.writeFloat: 16-bit floats round to nearest even; integers round and saturate, NaN to 0.
static __device__ void ql_write_float(void* p, int type, long long index, float v) {
    switch (type) {
        case 0: ((float*) p)[index] = v; break;
        case 1: ((unsigned short*) p)[index] = ql_float_to_bf16(v); break;
        case 2: ((unsigned short*) p)[index] = ql_float_to_f16(v); break;
        case 3: ((signed char*) p)[index] = (signed char) ql_round_saturate(v, -128, 127); break;
        case 4: ((unsigned char*) p)[index] = (unsigned char) ql_round_saturate(v, 0, 255); break;
        default: ((int*) p)[index] = ql_round_saturate(v, -2147483647 - 1, 2147483647); break;
    }
}

// Moves one element's bytes unchanged (a same-dtype copy is exact, NaN payloads and all).
static __device__ void ql_copy_bits(const void* src, long long si, void* dst, long long di, int type) {
    switch (type) {
        case 1: case 2: ((unsigned short*) dst)[di] = ((const unsigned short*) src)[si]; break;
        case 3: case 4: ((unsigned char*) dst)[di] = ((const unsigned char*) src)[si]; break;
        default: ((unsigned int*) dst)[di] = ((const unsigned int*) src)[si]; break;
    }
}

// Java's Math.max / Math.min for floats: NaN if either is NaN, and -0 below +0 (fmaxf/fminf
// would instead drop a NaN).
static __device__ float ql_max(float a, float b) {
    if (ql_is_nan(a)) {
        return a;
    }
    if (a == 0.0f && b == 0.0f && ql_float_bits(a) == 0x80000000u) {
        return b;
    }
    return a >= b ? a : b;
}

static __device__ float ql_min(float a, float b) {
    if (ql_is_nan(a)) {
        return a;
    }
    if (a == 0.0f && b == 0.0f && ql_float_bits(b) == 0x80000000u) {
        return b;
    }
    return a <= b ? a : b;
}

// Offsets of row-major element i of `shape` in views a and b, from one pass over its coordinates
// (one division per axis). The loop has a constant trip count so that nvcc unrolls it and reads
// the by-value structs straight from kernel parameters.
// The element offsets of row-major index i in two views over one shape. A 64-bit division per axis
// is the costliest part of a strided kernel, so below 2^31 elements the quotients are taken in 32
// bits (ql_view_offsets32); the two give the same offsets.
static __device__ void ql_view_offsets32(unsigned int i, const QlShape& shape, const QlView& a, const QlView& b,
                                         long long* aOffset, long long* bOffset) {
    long long oa = a.offset;
    long long ob = b.offset;
    for (int d = QL_MAX_RANK - 1; d >= 0; d--) {
        if (d < shape.rank) {
            unsigned int dim = (unsigned int) shape.dims[d];
            unsigned int q = i / dim;
            unsigned int c = i - q * dim;
            i = q;
            oa += (long long) c * a.strides[d];
            ob += (long long) c * b.strides[d];
        }
    }
    *aOffset = oa;
    *bOffset = ob;
}

static __device__ void ql_view_offsets(long long i, const QlShape& shape, const QlView& a, const QlView& b,
                                       long long* aOffset, long long* bOffset) {
    if (i < 2147483648LL) {
        ql_view_offsets32((unsigned int) i, shape, a, b, aOffset, bOffset);
        return;
    }
    long long oa = a.offset;
    long long ob = b.offset;
    for (int d = QL_MAX_RANK - 1; d >= 0; d--) {
        if (d < shape.rank) {
            long long q = i / shape.dims[d];
            long long c = i - q * shape.dims[d];
            i = q;
            oa += c * a.strides[d];
            ob += c * b.strides[d];
        }
    }
    *aOffset = oa;
    *bOffset = ob;
}

// ---------------------------------------------------------------------------------------------
// fill: out[i] = the low elemBytes (1, 2 or 4) bytes of `bits`, for i < n. The caller encodes the
// value in the tensor's dtype, so one kernel fills every dtype. Grid-stride over n.
extern "C" __global__ void fill(void* out, long long n, int elemBytes, unsigned int bits) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        if (elemBytes == 4) {
            ((unsigned int*) out)[i] = bits;
        } else if (elemBytes == 2) {
            ((unsigned short*) out)[i] = (unsigned short) bits;
        } else {
            ((unsigned char*) out)[i] = (unsigned char) bits;
        }
    }
}

// copy_strided: dst[dv(i)] = convert(src[sv(i)]) for each row-major index i < n of `shape`, where
// v(i) = v.offset + Σ_d coord_d(i)·v.strides[d] (stride 0 broadcasts). Equal dtypes move bytes;
// otherwise through f32 as DType.readFloat / writeFloat. Grid-stride over n.
extern "C" __global__ void copy_strided(const void* src, int srcType, QlView sv, void* dst, int dstType, QlView dv,
                                        QlShape shape, long long n) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        long long si, di;
        ql_view_offsets(i, shape, sv, dv, &si, &di);
        if (srcType == dstType) {
            ql_copy_bits(src, si, dst, di, srcType);
        } else {
            ql_write_float(dst, dstType, di, ql_read_float(src, srcType, si));
        }
    }
}

// cast_contiguous: dst[i] = src[i] converted between dtypes (codes as copy_strided), both contiguous
// [n]: a cast of a whole tensor, with no index arithmetic. Grid-stride over n.
extern "C" __global__ void cast_contiguous(const void* src, int srcType, void* dst, int dstType, long long n) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        ql_write_float(dst, dstType, i, ql_read_float(src, srcType, i));
    }
}

// unary_f32: out[i] = op(x[i]), x and out contiguous f32 [n]; op a UnaryOp code, formulas as the
// CPU's Elementwise.apply. Grid-stride over n.
extern "C" __global__ void unary_f32(int op, const float* x, float* out, long long n) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        float v = x[i];
        float r;
        switch (op) {
            case 0: r = -v; break;
            case 1: r = fabsf(v); break;
            case 2: r = expf(v); break;
            case 3: r = logf(v); break;
            case 4: r = sqrtf(v); break;
            case 5: r = 1.0f / sqrtf(v); break;
            case 6: r = v * v; break;
            case 7: r = 1.0f / v; break;
            case 8: r = tanhf(v); break;
            case 9: r = 1.0f / (1.0f + expf(-v)); break;
            case 10: r = v / (1.0f + expf(-v)); break;
            default: r = ql_max(v, 0.0f); break;
        }
        out[i] = r;
    }
}

// op(x, y) for a BinaryOp code; MAX/MIN as Java's Math.max/min.
static __device__ float ql_binary(int op, float x, float y) {
    switch (op) {
        case 0: return x + y;
        case 1: return x - y;
        case 2: return x * y;
        case 3: return x / y;
        case 4: return ql_max(x, y);
        default: return ql_min(x, y);
    }
}

// binary_f32: out[i] = op(a[av(i)], b[bv(i)]) for each row-major index i < n of `shape`; out is
// contiguous in shape, a and b are views over it (stride 0 on broadcast axes). Grid-stride over n.
extern "C" __global__ void binary_f32(int op, const float* a, QlView av, const float* b, QlView bv, float* out,
                                      QlShape shape, long long n) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        long long ai, bi;
        ql_view_offsets(i, shape, av, bv, &ai, &bi);
        out[i] = ql_binary(op, a[ai], b[bi]);
    }
}

// binary_contiguous_f32: out[i] = op(a[i], b[i]), all three contiguous f32 [n] of one shape: the
// common case, with no index arithmetic. Grid-stride over n.
extern "C" __global__ void binary_contiguous_f32(int op, const float* a, const float* b, float* out, long long n) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        out[i] = ql_binary(op, a[i], b[i]);
    }
}

// binary_scalar_f32: out[i] = op(x[i], s), or op(s, x[i]) when scalarFirst is 1; x and out contiguous
// f32 [n], the scalar passed by value. Grid-stride over n.
extern "C" __global__ void binary_scalar_f32(int op, const float* x, float s, int scalarFirst, float* out, long long n) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        out[i] = scalarFirst ? ql_binary(op, s, x[i]) : ql_binary(op, x[i], s);
    }
}

// ---------------------------------------------------------------------------------------------
// Row kernels: one 256-thread block per row; each thread folds a strided share of the row, then
// the block combines the 256 partials in a shared-memory tree.

// The identity and the step of a ReduceOp code's fold.
static __device__ float ql_reduce_identity(int op) {
    return op == 2 ? ql_bits_float(0xFF800000u) : op == 3 ? ql_bits_float(0x7F800000u) : 0.0f;
}

static __device__ float ql_reduce_combine(int op, float acc, float x) {
    return op == 2 ? ql_max(acc, x) : op == 3 ? ql_min(acc, x) : acc + x;
}

// Combines every thread's `v` with `op` through `buf`; all 256 threads must call it and all get the
// result. The trailing barrier lets the caller reuse `buf` at once.
static __device__ float ql_block_reduce(float* buf, int op, float v) {
    unsigned int t = threadIdx.x;
    buf[t] = v;
    __syncthreads();
    for (unsigned int s = QL_ROW_THREADS / 2; s > 0; s >>= 1) {
        if (t < s) {
            buf[t] = ql_reduce_combine(op, buf[t], buf[t + s]);
        }
        __syncthreads();
    }
    float r = buf[0];
    __syncthreads();
    return r;
}

// reduce_f32: x contiguous f32 [outer, len, inner]; out[o·inner + j] = op over k < len of
// x[(o·len + k)·inner + j], accumulated in f32; MEAN = SUM / len. Row kernel, rows = outer·inner,
// row r = o·inner + j. With inner == 1 a block reads its row coalesced; otherwise its reads are
// `inner` apart and neighbouring blocks (j, j+1) share the sectors through L2.
extern "C" __global__ void reduce_f32(int op, const float* x, float* out, long long outer, long long len, long long inner) {
    __shared__ float buf[QL_ROW_THREADS];
    long long rows = outer * inner;
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        long long o = r / inner;
        long long j = r - o * inner;
        const float* base = x + o * len * inner + j;
        float acc = ql_reduce_identity(op);
        for (long long k = threadIdx.x; k < len; k += QL_ROW_THREADS) {
            acc = ql_reduce_combine(op, acc, base[k * inner]);
        }
        acc = ql_block_reduce(buf, op, acc);
        if (threadIdx.x == 0) {
            out[r] = op == 1 ? acc / (float) len : acc;
        }
    }
}

// reduce_columns_f32: the reduction of reduce_f32 for inner > 1, one thread per output
// r = o·inner + j folding k < len in order: neighbouring threads read neighbouring columns j, so
// every read of a warp is one coalesced row segment (the row kernel would read one float per
// 32-byte sector along a leading axis). Grid-stride over outer·inner.
extern "C" __global__ void reduce_columns_f32(int op, const float* x, float* out, long long outer, long long len,
                                              long long inner) {
    long long rows = outer * inner;
    for (long long r = (long long) blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += (long long) gridDim.x * blockDim.x) {
        long long o = r / inner;
        long long j = r - o * inner;
        const float* base = x + o * len * inner + j;
        float acc = ql_reduce_identity(op);
        for (long long k = 0; k < len; k++) {
            acc = ql_reduce_combine(op, acc, base[k * inner]);
        }
        out[r] = op == 1 ? acc / (float) len : acc;
    }
}

// softmax_f32: x, out contiguous f32 [rows, cols]; per row, with m = max_j x_j and
// s = Σ_j exp(x_j - m): out = exp(x - m) / s as exp(x - m) · (1/s), or with logSoftmax != 0
// out = x - (m + log s), as the CPU's RowKernels.softmax. Row kernel. Three coalesced passes over
// the row (max, sum, write); recomputing exp in the last pass costs less than storing and
// re-reading it.
extern "C" __global__ void softmax_f32(const float* x, float* out, long long rows, int cols, int logSoftmax) {
    __shared__ float buf[QL_ROW_THREADS];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* row = x + r * cols;
        float* o = out + r * cols;
        float m = ql_reduce_identity(2);
        for (int k = threadIdx.x; k < cols; k += QL_ROW_THREADS) {
            m = ql_max(m, row[k]);
        }
        m = ql_block_reduce(buf, 2, m);
        float s = 0.0f;
        for (int k = threadIdx.x; k < cols; k += QL_ROW_THREADS) {
            s += expf(row[k] - m);
        }
        s = ql_block_reduce(buf, 0, s);
        if (logSoftmax) {
            float shift = m + logf(s);
            for (int k = threadIdx.x; k < cols; k += QL_ROW_THREADS) {
                o[k] = row[k] - shift;
            }
        } else {
            float inv = 1.0f / s;
            for (int k = threadIdx.x; k < cols; k += QL_ROW_THREADS) {
                o[k] = expf(row[k] - m) * inv;
            }
        }
    }
}

// rmsnorm_f32: x, out contiguous f32 [rows, cols], w f32 [cols]; per row
// out = x · (1 / sqrt(Σx²/cols + eps)) · w, multiplied in that order as the CPU's RowKernels.rmsNorm.
// Row kernel.
extern "C" __global__ void rmsnorm_f32(const float* x, const float* w, float* out, long long rows, int cols, float eps) {
    __shared__ float buf[QL_ROW_THREADS];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* row = x + r * cols;
        float* o = out + r * cols;
        float ss = 0.0f;
        for (int k = threadIdx.x; k < cols; k += QL_ROW_THREADS) {
            float v = row[k];
            ss += v * v;
        }
        ss = ql_block_reduce(buf, 0, ss);
        float scale = 1.0f / sqrtf(ss / (float) cols + eps);
        for (int k = threadIdx.x; k < cols; k += QL_ROW_THREADS) {
            o[k] = row[k] * scale * w[k];
        }
    }
}

// rmsnorm_backward_f32: x, dy, dx contiguous f32 [rows, cols], w f32 [cols]; per row with
// r = 1 / sqrt(Σx²/cols + eps) and c = r·r·(Σ(dy·w·x)/cols): dx = (dy·w − x·c)·r, as the CPU's
// RowKernels.rmsNormBackward. Row kernel.
extern "C" __global__ void rmsnorm_backward_f32(const float* x, const float* w, const float* dy, float* dx, long long rows,
                                                int cols, float eps) {
    __shared__ float buf[QL_ROW_THREADS];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* row = x + r * cols;
        const float* g = dy + r * cols;
        float* o = dx + r * cols;
        float ss = 0.0f;
        float dot = 0.0f;
        for (int k = threadIdx.x; k < cols; k += QL_ROW_THREADS) {
            float v = row[k];
            ss += v * v;
            dot += g[k] * w[k] * v;
        }
        ss = ql_block_reduce(buf, 0, ss);
        dot = ql_block_reduce(buf, 0, dot);
        float scale = 1.0f / sqrtf(ss / (float) cols + eps);
        float c = scale * scale * (dot / (float) cols);
        for (int k = threadIdx.x; k < cols; k += QL_ROW_THREADS) {
            o[k] = (g[k] * w[k] - row[k] * c) * scale;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Transformer pieces (autograd's SwigluOp, RopeOp, EmbeddingOp, AttentionOps, CrossEntropyOp, AdamW).

// swiglu_f32: out[i] = silu(gate[i])·up[i], silu(g) = g / (1 + exp(-g)) as unary_f32's SILU; gate,
// up, out contiguous f32 [n]. Grid-stride over n.
extern "C" __global__ void swiglu_f32(const float* gate, const float* up, float* out, long long n) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

// swiglu_backward_f32: with s = σ(gate[i]): dup[i] = dy[i]·silu(gate[i]) and
// dgate[i] = dy[i]·up[i]·(s·(gate[i]·(1 - s) + 1)); all contiguous f32 [n]; dgate may be dy (autograd
// writes it in place): dy[i] is read once, before dgate[i] is written. Grid-stride over n.
extern "C" __global__ void swiglu_backward_f32(const float* gate, const float* up, const float* dy, float* dgate,
                                               float* dup, long long n) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        float g = gate[i];
        float d = dy[i];
        float s = 1.0f / (1.0f + expf(-g));
        dup[i] = d * (g / (1.0f + expf(-g)));
        dgate[i] = d * up[i] * (s * (g * (1.0f - s) + 1.0f));
    }
}

// rope_f32: x, out contiguous f32 [rows, hd] (rows = B·H·T), cos and sin f32 [t, hd]; row r is at
// position p = r % t; half = hd/2. Forward: out[i] = x[i]·cos[p,i] + rot(x)[i]·sin[p,i] with
// rot(x)[i] = -x[i+half] for i < half, x[i-half] after. Inverse (the backward pass, rotᵀ):
// out[i] = x[i]·cos[p,i] + (i < half ? x[i+half]·sin[p,i+half] : -x[i-half]·sin[p,i-half]).
// Grid-stride over rows·hd.
extern "C" __global__ void rope_f32(const float* x, const float* cos, const float* sin, float* out, long long rows, int t,
                                    int hd, int inverse) {
    long long n = rows * hd;
    int half = hd / 2;
    for (long long e = (long long) blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (long long) gridDim.x * blockDim.x) {
        long long r = e / hd;
        int i = (int) (e - r * hd);
        long long base = e - i;
        long long p = (r % t) * hd;
        float z;
        if (!inverse) {
            float rotated = i < half ? -x[base + i + half] : x[base + i - half];
            z = rotated * sin[p + i];
        } else {
            z = i < half ? x[base + i + half] * sin[p + i + half] : -x[base + i - half] * sin[p + i - half];
        }
        out[e] = x[e] * cos[p + i] + z;
    }
}

// Fused causal attention with grouped-query heads (autograd's AttentionOps; the CPU's
// CausalAttention): q f32 [B, H, T, d], k and v f32 [B, G, T, d], query head h reading key/value head
// h / (H/G); s_ij = scale·q_i·k_j for j <= i, out_i = Σ_j softmax(s_i)_j v_j, lse_i = log Σ_j e^s_ij.
// No T×T tensor: a block walks its row's keys in tiles of 256, one score per thread, with an online
// softmax (running max m and sum l, the accumulator rescaled by e^(m_old - m_new) when m grows).
// Each thread accumulates the output columns c = threadIdx.x + 256·a, a < QL_ATTENTION_COLUMNS, so
// d <= 1024 (the host checks).
#define QL_ATTENTION_COLUMNS 4

// causal_attention_f32: row kernel over rows = B·H·T query rows (row r = (b·H + h)·T + i); writes
// out [B, H, T, d] and lse [B, H, T].
extern "C" __global__ void causal_attention_f32(const float* q, const float* k, const float* v, float* out, float* lse,
                                                long long rows, int h, int g, int t, int d, float scale) {
    __shared__ float buf[QL_ROW_THREADS];
    __shared__ float p[QL_ROW_THREADS];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        int i = (int) (r % t);
        long long bh = r / t;
        long long kvHead = (bh / h) * g + (bh % h) / (h / g);
        const float* qi = q + r * d;
        const float* kb = k + kvHead * t * d;
        const float* vb = v + kvHead * t * d;
        float acc[QL_ATTENTION_COLUMNS];
        for (int a = 0; a < QL_ATTENTION_COLUMNS; a++) {
            acc[a] = 0.0f;
        }
        float m = ql_reduce_identity(2);
        float l = 0.0f;
        for (int j0 = 0; j0 <= i; j0 += QL_ROW_THREADS) {
            int j = j0 + (int) threadIdx.x;
            float s = ql_reduce_identity(2);
            if (j <= i) {
                float dot = 0.0f;
                for (int c = 0; c < d; c++) {
                    dot += qi[c] * kb[(long long) j * d + c];
                }
                s = scale * dot;
            }
            float mNew = ql_max(m, ql_block_reduce(buf, 2, s));
            float e = j <= i ? expf(s - mNew) : 0.0f;
            p[threadIdx.x] = e;
            float tileSum = ql_block_reduce(buf, 0, e);
            float correction = expf(m - mNew);
            l = l * correction + tileSum;
            int n = i - j0 + 1 < QL_ROW_THREADS ? i - j0 + 1 : QL_ROW_THREADS;
            for (int a = 0; a < QL_ATTENTION_COLUMNS; a++) {
                int c = (int) threadIdx.x + a * QL_ROW_THREADS;
                if (c < d) {
                    float sum = acc[a] * correction;
                    for (int jj = 0; jj < n; jj++) {
                        sum += p[jj] * vb[(long long) (j0 + jj) * d + c];
                    }
                    acc[a] = sum;
                }
            }
            m = mNew;
            __syncthreads();
        }
        for (int a = 0; a < QL_ATTENTION_COLUMNS; a++) {
            int c = (int) threadIdx.x + a * QL_ROW_THREADS;
            if (c < d) {
                out[r * d + c] = acc[a] / l;
            }
        }
        if (threadIdx.x == 0) {
            lse[r] = m + logf(l);
        }
    }
}

// causal_attention_backward_q_f32: row kernel over the B·H·T query rows. With p_ij = e^(s_ij - lse_i),
// D_i = dout_i·out_i and ds_ij = p_ij (dout_i·v_j - D_i): dq_i = scale Σ_j ds_ij k_j. Also writes
// D [B, H, T] for causal_attention_backward_kv_f32, launched after it.
extern "C" __global__ void causal_attention_backward_q_f32(const float* q, const float* k, const float* v, const float* out,
                                                           const float* lse, const float* dout, float* dq, float* dsum,
                                                           long long rows, int h, int g, int t, int d, float scale) {
    __shared__ float buf[QL_ROW_THREADS];
    __shared__ float ds[QL_ROW_THREADS];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        int i = (int) (r % t);
        long long bh = r / t;
        long long kvHead = (bh / h) * g + (bh % h) / (h / g);
        const float* qi = q + r * d;
        const float* gi = dout + r * d;
        const float* kb = k + kvHead * t * d;
        const float* vb = v + kvHead * t * d;
        float part = 0.0f;
        for (int c = threadIdx.x; c < d; c += QL_ROW_THREADS) {
            part += gi[c] * out[r * d + c];
        }
        float dRow = ql_block_reduce(buf, 0, part);
        float rowLse = lse[r];
        float acc[QL_ATTENTION_COLUMNS];
        for (int a = 0; a < QL_ATTENTION_COLUMNS; a++) {
            acc[a] = 0.0f;
        }
        for (int j0 = 0; j0 <= i; j0 += QL_ROW_THREADS) {
            int j = j0 + (int) threadIdx.x;
            float dsj = 0.0f;
            if (j <= i) {
                float qk = 0.0f;
                float gv = 0.0f;
                for (int c = 0; c < d; c++) {
                    qk += qi[c] * kb[(long long) j * d + c];
                    gv += gi[c] * vb[(long long) j * d + c];
                }
                dsj = expf(scale * qk - rowLse) * (gv - dRow) * scale;
            }
            ds[threadIdx.x] = dsj;
            __syncthreads();
            int n = i - j0 + 1 < QL_ROW_THREADS ? i - j0 + 1 : QL_ROW_THREADS;
            for (int a = 0; a < QL_ATTENTION_COLUMNS; a++) {
                int c = (int) threadIdx.x + a * QL_ROW_THREADS;
                if (c < d) {
                    float sum = acc[a];
                    for (int jj = 0; jj < n; jj++) {
                        sum += ds[jj] * kb[(long long) (j0 + jj) * d + c];
                    }
                    acc[a] = sum;
                }
            }
            __syncthreads();
        }
        for (int a = 0; a < QL_ATTENTION_COLUMNS; a++) {
            int c = (int) threadIdx.x + a * QL_ROW_THREADS;
            if (c < d) {
                dq[r * d + c] = acc[a];
            }
        }
        if (threadIdx.x == 0) {
            dsum[r] = dRow;
        }
    }
}

// causal_attention_backward_kv_f32: row kernel over the B·G·T key rows (row r = (b·G + g)·T + j):
// dk_j = scale Σ ds_ij q_i and dv_j = Σ p_ij dout_i over the group's query heads (in order) and the
// rows i >= j, in tiles of 256 rows, from D of causal_attention_backward_q_f32. Deterministic: no
// atomics, each key row's sums in a fixed order.
extern "C" __global__ void causal_attention_backward_kv_f32(const float* q, const float* k, const float* v,
                                                            const float* lse, const float* dout, const float* dsum,
                                                            float* dk, float* dv, long long rows, int h, int g, int t,
                                                            int d, float scale) {
    __shared__ float ps[QL_ROW_THREADS];
    __shared__ float ds[QL_ROW_THREADS];
    int group = h / g;
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        int j = (int) (r % t);
        long long bg = r / t;
        long long b = bg / g;
        int kvHead = (int) (bg % g);
        const float* kj = k + r * d;
        const float* vj = v + r * d;
        float dkAcc[QL_ATTENTION_COLUMNS];
        float dvAcc[QL_ATTENTION_COLUMNS];
        for (int a = 0; a < QL_ATTENTION_COLUMNS; a++) {
            dkAcc[a] = 0.0f;
            dvAcc[a] = 0.0f;
        }
        for (int hq = kvHead * group; hq < (kvHead + 1) * group; hq++) {
            long long headRows = (b * h + hq) * (long long) t;
            for (int i0 = j; i0 < t; i0 += QL_ROW_THREADS) {
                int i = i0 + (int) threadIdx.x;
                float p = 0.0f;
                float dsi = 0.0f;
                if (i < t) {
                    const float* qi = q + (headRows + i) * d;
                    const float* gi = dout + (headRows + i) * d;
                    float qk = 0.0f;
                    float gv = 0.0f;
                    for (int c = 0; c < d; c++) {
                        qk += qi[c] * kj[c];
                        gv += gi[c] * vj[c];
                    }
                    p = expf(scale * qk - lse[headRows + i]);
                    dsi = p * (gv - dsum[headRows + i]) * scale;
                }
                ps[threadIdx.x] = p;
                ds[threadIdx.x] = dsi;
                __syncthreads();
                int n = t - i0 < QL_ROW_THREADS ? t - i0 : QL_ROW_THREADS;
                for (int a = 0; a < QL_ATTENTION_COLUMNS; a++) {
                    int c = (int) threadIdx.x + a * QL_ROW_THREADS;
                    if (c < d) {
                        float sk = dkAcc[a];
                        float sv = dvAcc[a];
                        for (int ii = 0; ii < n; ii++) {
                            sk += ds[ii] * q[(headRows + i0 + ii) * d + c];
                            sv += ps[ii] * dout[(headRows + i0 + ii) * d + c];
                        }
                        dkAcc[a] = sk;
                        dvAcc[a] = sv;
                    }
                }
                __syncthreads();
            }
        }
        for (int a = 0; a < QL_ATTENTION_COLUMNS; a++) {
            int c = (int) threadIdx.x + a * QL_ROW_THREADS;
            if (c < d) {
                dk[r * d + c] = dkAcc[a];
                dv[r * d + c] = dvAcc[a];
            }
        }
    }
}

// embedding_f32: table [vocab, d] of dtype tableType (F32, or BF16 as a quantized model keeps it), ids
// i32 [n] (already checked in [0, vocab)), out f32 [n, d]; out[i, j] = table[ids[i], j] as f32.
// Grid-stride over n·d: consecutive threads copy consecutive columns.
extern "C" __global__ void embedding_f32(const void* table, int tableType, const int* ids, float* out, long long n, int d) {
    long long total = n * d;
    for (long long e = (long long) blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (long long) gridDim.x * blockDim.x) {
        long long i = e / d;
        long long j = e - i * d;
        out[e] = ql_read_float(table, tableType, (long long) ids[i] * d + j);
    }
}

// embedding_backward_f32: dy f32 [n, d], ids i32 [n], grad f32 [vocab, d] zeroed by the caller;
// grad[ids[i], j] += dy[i, j], with atomicAdd since ids repeat. Grid-stride over n·d.
extern "C" __global__ void embedding_backward_f32(const float* dy, const int* ids, float* grad, long long n, int d) {
    long long total = n * d;
    for (long long e = (long long) blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (long long) gridDim.x * blockDim.x) {
        long long i = e / d;
        long long j = e - i * d;
        atomicAdd(grad + (long long) ids[i] * d + j, dy[e]);
    }
}

// fill_above_diagonal_f32: t contiguous f32 [matrices, size, size], in place; entries (i, j) with
// j > i (a key after its query, for the causal mask) become `value`. Grid-stride over
// matrices·size·size; entries on or below the diagonal are left untouched.
extern "C" __global__ void fill_above_diagonal_f32(float* t, long long matrices, int size, float value) {
    long long area = (long long) size * size;
    long long total = matrices * area;
    for (long long e = (long long) blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (long long) gridDim.x * blockDim.x) {
        long long within = e % area;
        long long i = within / size;
        long long j = within - i * size;
        if (j > i) {
            t[e] = value;
        }
    }
}

// pick_targets_f32: lsm f32 [n, v] (log-softmax), targets i32 [n], out f32 [n];
// out[i] = targets[i] == ignoreIndex ? 0 : lsm[i, targets[i]]. Grid-stride over n.
extern "C" __global__ void pick_targets_f32(const float* lsm, const int* targets, float* out, long long n, int v,
                                            int ignoreIndex) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        int t = targets[i];
        out[i] = t == ignoreIndex ? 0.0f : lsm[i * v + t];
    }
}

// cross_entropy_backward_f32: lsm f32 [n, v], targets i32 [n], out f32 [n, v];
// out[i, j] = targets[i] == ignoreIndex ? 0 : (exp(lsm[i, j]) - (j == targets[i])) · scale, where
// scale = dLoss / (valid rows). Grid-stride over n·v.
extern "C" __global__ void cross_entropy_backward_f32(const float* lsm, const int* targets, float* out, long long n, int v,
                                                      int ignoreIndex, float scale) {
    long long total = n * v;
    for (long long e = (long long) blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (long long) gridDim.x * blockDim.x) {
        long long i = e / v;
        long long j = e - i * v;
        int t = targets[i];
        out[e] = t == ignoreIndex ? 0.0f : (expf(lsm[e]) - (j == t ? 1.0f : 0.0f)) * scale;
    }
}

// adamw_f32: p, g, m, v contiguous f32 [n]; one AdamW step in place, as autograd's AdamW:
// m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g·g; p -= lr·wd·p; p -= lr·(m/c1) / (sqrt(v/c2) + eps),
// with c1 = 1 - β1^t and c2 = 1 - β2^t from the caller. Grid-stride over n.
extern "C" __global__ void adamw_f32(float* p, const float* g, float* m, float* v, long long n, float lr, float beta1,
                                     float beta2, float eps, float weightDecay, float c1, float c2) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        float gi = g[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        float pi = p[i];
        pi -= lr * weightDecay * pi;
        pi -= lr * (mi / c1) / (sqrtf(vi / c2) + eps);
        p[i] = pi;
    }
}
