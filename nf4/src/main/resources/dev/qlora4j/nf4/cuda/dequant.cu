// qlora4j dequantization kernels for the CUDA backend: 4-bit (NF4/FP4) and row-wise int8 weights,
// bit-identical to the CPU's Dequantize and Int8Weight, launched by CudaDequantize. The launch shapes,
// bounds and source rules are those of the engine's kernels.cu header (grid-stride kernels of 256-thread
// blocks); KernelContractTest checks the output codes below against DType. dequant.ptx beside this
// file is generated from it by
// cuda/ptx/build-ptx.sh, whose nvcc flags include --fmad=false: the double-quantization scale
// fl32(fl32(c·a) + offset) must not become one fused multiply-add, or it would differ from the
// CPU's in the last bit (a host compiler needs the same: g++ -ffp-contract=off).
//
// Source rules, because a host emulator compiles this same file with g++ under a small header that
// defines __global__, __device__, __shared__, threadIdx, blockIdx, blockDim, gridDim, __syncthreads
// and atomicAdd: no #include, no warp intrinsics; both kernels are grid-stride loops, correct for
// any 1-D grid and block.
//
// Codes (the Java constant's ordinal):
//   DType:    0 F32, 1 BF16

// 16-byte values for wide stores: CUDA's vector types under nvcc (one st.global.v4 each), a plain
// aligned struct of the same layout for the host compiler.
#ifdef __CUDACC__
typedef float4 QlFloat4;
typedef uint4 QlUint4;
#else
struct alignas(16) QlFloat4 {
    float x, y, z, w;
};
struct alignas(16) QlUint4 {
    unsigned int x, y, z, w;
};
#endif

// FloatBits.floatToBf16: round to nearest even by adding 0x7FFF plus the lowest kept bit; NaN is
// kept quiet, as truncating its payload could otherwise read as infinity.
static __device__ unsigned int ql_float_to_bf16(float f) {
    union {
        float f;
        unsigned int u;
    } b;
    b.f = f;
    if ((b.u & 0x7FFFFFFFu) > 0x7F800000u) {
        return (b.u >> 16) | 0x0040u;
    }
    return (b.u + 0x7FFFu + ((b.u >> 16) & 1u)) >> 16;
}

// The absmax of block b: stored as f32, or with double quantization (absmax == NULL) rebuilt as
// BlockScales.of does, fl32(fl32(nestedCode[q]·nestedAbsmax[b / nestedBlocksize]) + offset).
static __device__ float ql_block_scale(long long b, const float* absmax, const unsigned char* qabsmax,
                                       const float* nestedCode, const float* nestedAbsmax, float offset,
                                       int nestedBlocksize) {
    if (absmax) {
        return absmax[b];
    }
    return nestedCode[qabsmax[b]] * nestedAbsmax[b / nestedBlocksize] + offset;
}

// Element k (0..7) of a unit whose packed bytes are `word`: byte k/2, high nibble for even k, times
// its scale, fl32(code · scale) as the CPU computes it.
static __device__ float ql_decode(unsigned int word, int k, const float* table, float scale) {
    return table[(word >> (8 * (k / 2) + ((k & 1) ? 0 : 4))) & 15] * scale;
}

// dequant_4bit: packed u8 [ceil(n/2)], two 4-bit codes a byte (element 2j the high nibble of byte
// j, 2j+1 the low); code f32 [16], the code values; out [n] of outType 0 F32 or 1 BF16 (rounded to
// nearest even), out[e] = fl32(code[nibble(e)] · scale(e / blocksize)), the operation order of the
// CPU's Dequantize. Scales: absmax f32 [ceil(n/blocksize)], or when absmax is NULL double
// quantization: qabsmax u8 [ceil(n/blocksize)] indexing nestedCode f32 [256], nestedAbsmax f32
// [ceil(blocks/nestedBlocksize)] and offset (see ql_block_scale).
// Grid-stride over units u < ceil(n/8): unit u decodes elements 8u..8u+7 from packed bytes
// 4u..4u+3, read in one coalesced 32-bit load, and writes them with 16-byte stores (two for F32,
// one for BF16) when out is 16-byte aligned; the last unit of an n not divisible by 8 (n may be
// odd) goes byte by byte and element by element, as does an unaligned out. Block sizes are
// multiples of 8 in practice, so a unit shares one scale; a unit that straddles blocks takes one
// per element. The code table is staged in shared memory, where the per-element lookups cost no
// global traffic.
extern "C" __global__ void dequant_4bit(const unsigned char* packed, const float* absmax, const unsigned char* qabsmax,
                                        const float* nestedCode, const float* nestedAbsmax, float offset,
                                        const float* code, void* out, int outType, long long n, int blocksize,
                                        int nestedBlocksize) {
    __shared__ float table[16];
    for (unsigned int k = threadIdx.x; k < 16; k += blockDim.x) {
        table[k] = code[k];
    }
    __syncthreads();
    long long units = (n + 7) / 8;
    bool wordLoads = ((unsigned long long) packed & 3) == 0;
    bool wideStores = ((unsigned long long) out & 15) == 0;
    for (long long u = (long long) blockIdx.x * blockDim.x + threadIdx.x; u < units; u += (long long) gridDim.x * blockDim.x) {
        long long e0 = 8 * u;
        int count = n - e0 < 8 ? (int) (n - e0) : 8;
        // Byte j of the unit in bits 8j..8j+7, as a little-endian word load puts it.
        unsigned int word;
        if (count == 8 && wordLoads) {
            word = ((const unsigned int*) packed)[u];
        } else {
            word = 0;
            for (int j = 0; j < (count + 1) / 2; j++) {
                word |= (unsigned int) packed[4 * u + j] << (8 * j);
            }
        }
        long long b = e0 / blocksize;
        float scale = ql_block_scale(b, absmax, qabsmax, nestedCode, nestedAbsmax, offset, nestedBlocksize);
        bool oneBlock = e0 + count <= (b + 1) * blocksize;
        if (count == 8 && oneBlock && wideStores) {
            if (outType == 0) {
                QlFloat4* o = (QlFloat4*) ((float*) out + e0);
                QlFloat4 lo, hi;
                lo.x = ql_decode(word, 0, table, scale);
                lo.y = ql_decode(word, 1, table, scale);
                lo.z = ql_decode(word, 2, table, scale);
                lo.w = ql_decode(word, 3, table, scale);
                hi.x = ql_decode(word, 4, table, scale);
                hi.y = ql_decode(word, 5, table, scale);
                hi.z = ql_decode(word, 6, table, scale);
                hi.w = ql_decode(word, 7, table, scale);
                o[0] = lo;
                o[1] = hi;
            } else {
                QlUint4 q;
                q.x = ql_float_to_bf16(ql_decode(word, 0, table, scale)) | ql_float_to_bf16(ql_decode(word, 1, table, scale)) << 16;
                q.y = ql_float_to_bf16(ql_decode(word, 2, table, scale)) | ql_float_to_bf16(ql_decode(word, 3, table, scale)) << 16;
                q.z = ql_float_to_bf16(ql_decode(word, 4, table, scale)) | ql_float_to_bf16(ql_decode(word, 5, table, scale)) << 16;
                q.w = ql_float_to_bf16(ql_decode(word, 6, table, scale)) | ql_float_to_bf16(ql_decode(word, 7, table, scale)) << 16;
                *(QlUint4*) ((unsigned short*) out + e0) = q;
            }
        } else {
            for (int k = 0; k < count; k++) {
                float s = oneBlock ? scale
                        : ql_block_scale((e0 + k) / blocksize, absmax, qabsmax, nestedCode, nestedAbsmax, offset,
                                         nestedBlocksize);
                float value = ql_decode(word, k, table, s);
                if (outType == 0) {
                    ((float*) out)[e0 + k] = value;
                } else {
                    ((unsigned short*) out)[e0 + k] = (unsigned short) ql_float_to_bf16(value);
                }
            }
        }
    }
}

// dequant_int8_rows: cb i8 [rows, cols], scb f32 [rows] (each row's absmax), out [rows, cols] of
// outType 0 F32 or 1 BF16 (rounded to nearest even); out[r, c] = fl32(fl32(cb[r, c]·scb[r]) ·
// fl32(1/127)), bitsandbytes' constant and order as Int8Weight.decode. Grid-stride over rows·cols.
extern "C" __global__ void dequant_int8_rows(const signed char* cb, const float* scb, void* out, int outType, long long rows,
                                             int cols) {
    long long total = rows * cols;
    for (long long e = (long long) blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (long long) gridDim.x * blockDim.x) {
        float value = (float) cb[e] * scb[e / cols] * 7.874015718698502e-3f;
        if (outType == 0) {
            ((float*) out)[e] = value;
        } else {
            ((unsigned short*) out)[e] = (unsigned short) ql_float_to_bf16(value);
        }
    }
}
