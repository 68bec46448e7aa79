package dev.qlora4j.nf4;

import dev.qlora4j.engine.spi.CpuKernels;

/**
 * bitsandbytes' blockwise quantizers, element by element as its CUDA kernels compute them in f32
 * (IEEE, no fast-math approximations): 4-bit codes with one absmax per block, and the 8-bit
 * double quantization of those absmax values.
 */
final class BlockwiseQuantizer {
    private BlockwiseQuantizer() {
    }

    /** Packed nibbles (element 2j high, 2j+1 low) and the f32 absmax of each block. */
    record Result(byte[] packed, float[] absmax) {
    }

    /** Dynamic-map codes of (absmax - offset), one f32 absmax per 256 of them, and the offset. */
    record Nested(byte[] codes, float[] nestedAbsmax, float offset) {
    }

    /**
     * CUDA's {@code fmaxf}: the larger of two floats, a NaN argument ignored (the other returned).
     */
    static float fmaxf(float a, float b) {
        if (Float.isNaN(a)) {
            return b;
        }
        if (Float.isNaN(b)) {
            return a;
        }
        return Math.max(a, b);
    }

    /**
     * The absmax of x[from, from+len) as the kernel computes it: a running fmaxf from -FLT_MAX, over
     * a block zero-padded to {@code blocksize} when it is the short last one.
     */
    static float absmax(float[] x, int from, int len, int blocksize) {
        float m = -Float.MAX_VALUE;
        for (int i = from; i < from + len; i++) {
            m = fmaxf(m, Math.abs(x[i]));
        }
        return len < blocksize ? fmaxf(m, 0f) : m;
    }

    static Result quantize4Bit(float[] x, QuantType type, int blocksize) {
        int n = x.length;
        int nb = (n + blocksize - 1) / blocksize;
        float[] absmax = new float[nb];
        byte[] packed = new byte[(n + 1) / 2];
        // Blocks are independent and cover whole bytes (block sizes are even): quantize them in parallel.
        int blocksPerTask = Math.max(1, (1 << 16) / blocksize);
        CpuKernels.parallel((nb + blocksPerTask - 1) / blocksPerTask, t -> {
            for (int b = t * blocksPerTask; b < Math.min(nb, (t + 1) * blocksPerTask); b++) {
                quantizeBlock(x, type, blocksize, b, absmax, packed);
            }
        });
        return new Result(packed, absmax);
    }

    private static void quantizeBlock(float[] x, QuantType type, int blocksize, int b, float[] absmax, byte[] packed) {
        int n = x.length;
        int from = b * blocksize;
        int len = Math.min(blocksize, n - from);
        float m = absmax(x, from, len, blocksize);
        absmax[b] = m;
        float inv = 1f / m;
        for (int i = from; i < from + len; i++) {
            int code = type.encode(x[i] * inv);
            packed[i >> 1] |= (byte) ((i & 1) == 0 ? code << 4 : code);
        }
        if (from + len == n && (n & 1) == 1) {
            // The pad element of an odd count is a zero of the last block: its code fills the low nibble.
            packed[n >> 1] |= (byte) type.encode(0f * inv);
        }
    }

    /**
     * Double quantization: offset = the correctly rounded mean of the absmax values (summed in f64,
     * which is exact for the magnitudes absmax values take), centred values fl32(a - offset), then
     * blockwise-256 8-bit quantization with {@link DynamicMap}.
     */
    static Nested doubleQuantize(float[] absmax) {
        int nb = absmax.length;
        double sum = 0;
        double compensation = 0; // Neumaier summation: keeps the f64 sum exact to the last bit in practice
        for (float a : absmax) {
            double t = sum + a;
            compensation += Math.abs(sum) >= Math.abs(a) ? (sum - t) + a : (a - t) + sum;
            sum = t;
        }
        // One rounding from the (compensated) sum to f32: BigDecimal division then a correctly rounded floatValue.
        float offset = new java.math.BigDecimal(sum).add(new java.math.BigDecimal(compensation))
                .divide(java.math.BigDecimal.valueOf(nb), java.math.MathContext.DECIMAL128).floatValue();
        float[] centred = new float[nb];
        for (int i = 0; i < nb; i++) {
            centred[i] = absmax[i] - offset;
        }
        int nested = (nb + FourBitWeight.NESTED_BLOCKSIZE - 1) / FourBitWeight.NESTED_BLOCKSIZE;
        float[] nestedAbsmax = new float[nested];
        byte[] codes = new byte[nb];
        for (int b = 0; b < nested; b++) {
            int from = b * FourBitWeight.NESTED_BLOCKSIZE;
            int len = Math.min(FourBitWeight.NESTED_BLOCKSIZE, nb - from);
            float m = absmax(centred, from, len, FourBitWeight.NESTED_BLOCKSIZE);
            nestedAbsmax[b] = m;
            float inv = 1f / m;
            for (int i = from; i < from + len; i++) {
                codes[i] = (byte) DynamicMap.encode(centred[i] * inv);
            }
        }
        return new Nested(codes, nestedAbsmax, offset);
    }
}
