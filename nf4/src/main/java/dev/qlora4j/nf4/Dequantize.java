package dev.qlora4j.nf4;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.FloatBits;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.spi.Bf16Vectors;
import dev.qlora4j.engine.spi.CpuKernels;
import dev.qlora4j.engine.spi.VectorWidth;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * 4-bit dequantization, {@code out_i = fl32(value[code_i] * absmax[i / blocksize])} rounded to the
 * output dtype, as bitsandbytes' kernel computes it.
 *
 * <p>Vector kernel: per step, L packed bytes widen to L ints; their high and low nibbles are
 * interleaved back into element order (element 2j is the high nibble of byte j) with a two-vector
 * select, and the 16-entry code table is looked up in registers with {@code selectFrom} — one table
 * vector at 512 bits, a pair at 256, two pairs and a blend at 128. {@link #fourBitScalar} is the
 * element-by-element reference next to it.
 */
final class Dequantize {
    private static final VectorSpecies<Float> S = VectorWidth.FLOATS;
    private static final VectorSpecies<Integer> I = VectorWidth.INTS;
    private static final int L = S.length();
    /**
     * Whether the 16-entry table fits one vector (512 bits). A static constant, so the JIT drops the
     * multi-vector lookup entirely at that width: a merge with its result would hide the vectors'
     * exact type and stop the JIT from compiling them to registers.
     */
    private static final boolean ONE_TABLE_VECTOR = L >= 16;
    /** Elements per vector step: two float vectors, from L packed bytes. */
    private static final int STEP = 2 * L;
    /** Codes in one int vector of packed bytes, the step of {@link Decoder#dot}. */
    static final int CHUNK_CODES = 8 * L;
    /**
     * LANE_GROUPS[log2(w)][g]: the lanes of group g when lanes are grouped w at a time (w = lanes per
     * block in {@link Decoder#dot}, a power of two).
     */
    @SuppressWarnings("unchecked")
    private static final VectorMask<Float>[][] LANE_GROUPS = new VectorMask[Integer.numberOfTrailingZeros(L) + 1][];

    static {
        for (int log = 0; log < LANE_GROUPS.length; log++) {
            int width = 1 << log;
            LANE_GROUPS[log] = new VectorMask[L / width];
            for (int g = 0; g < L / width; g++) {
                boolean[] bits = new boolean[L];
                for (int lane = g * width; lane < (g + 1) * width; lane++) {
                    bits[lane] = true;
                }
                LANE_GROUPS[log][g] = VectorMask.fromArray(S, bits, 0);
            }
        }
    }
    /** Bytes are loaded with at least 8 lanes (the narrowest byte species); the first L are used. */
    private static final VectorSpecies<Byte> BYTES = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** Interleave patterns: lanes of (hi, lo) taken as hi0 lo0 hi1 lo1 ... for the first and second halves. */
    private static final IntVector ZIP_FIRST = zip(0);
    private static final IntVector ZIP_SECOND = zip(L / 2);
    /** Elements per parallel task: a whole number of blocks of every supported size. */
    private static final int CHUNK = 1 << 16;

    private Dequantize() {
    }

    private static IntVector zip(int start) {
        int[] idx = new int[L];
        for (int i = 0; i < L; i++) {
            idx[i] = start + i / 2 + (i % 2 == 0 ? 0 : L);
        }
        return IntVector.fromArray(I, idx, 0);
    }

    /** The 16 code values split into vectors of L lanes (bit patterns), for {@code selectFrom}. */
    private static IntVector[] tables(float[] values) {
        int parts = Math.max(1, 16 / L);
        IntVector[] t = new IntVector[parts];
        int[] bits = new int[Math.max(16, L)];
        for (int i = 0; i < 16; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        for (int p = 0; p < parts; p++) {
            t[p] = IntVector.fromArray(I, bits, p * L);
        }
        return t;
    }

    /** value[codes] for codes in [0, 16), looked up in registers. */
    private static FloatVector lookup(IntVector codes, IntVector[] table) {
        if (table.length == 1) {
            return codes.selectFrom(table[0]).reinterpretAsFloats();
        }
        // Two tables cover 2L codes; indices wrap modulo 2L, so each pair is blended in by its range.
        IntVector r = codes.selectFrom(table[0], table[1]);
        for (int p = 2; p < table.length; p += 2) {
            IntVector rp = codes.selectFrom(table[p], table[p + 1]);
            r = r.blend(rp, codes.compare(VectorOperators.GE, p * L));
        }
        return r.reinterpretAsFloats();
    }

    /**
     * What decoding needs of a 4-bit weight, gathered once: its packed bytes, its code table as
     * lookup vectors, and the weight for block scales (read per block, never as a whole array: with
     * double quantization that array would cost the 0.5 bit per weight it saves).
     */
    record Decoder(BlockScales scales, MemorySegment src, long srcBase, long n, int blocksize, QuantType type,
                   IntVector[] table) {
        static Decoder of(FourBitWeight w) {
            w.packed().checkOpen("dequantize");
            return new Decoder(w.scales(), w.packed().segment(), w.packed().byteOffset(), w.shape().numel(),
                    w.blocksize(), w.type(), tables(w.type().codeValues()));
        }

        /** The 4-bit code of element i. */
        int code(long i) {
            int b = Byte.toUnsignedInt(src.get(ValueLayout.JAVA_BYTE, srcBase + i / 2));
            return (i & 1) == 0 ? b >>> 4 : b & 0xF;
        }

        /**
         * Elements [lo, hi) of the weight, in row-major order, written as f32 (or bf16) to
         * {@code dst} from byte {@code dstBase} on: scalar up to the next step boundary, then whole
         * vector steps (each inside one block: blocks are multiples of STEP), then a scalar tail.
         */
        void decode(long lo, long hi, DType out, MemorySegment dst, long dstBase) {
            int os = out.byteSize();
            long packedBytes = (n + 1) / 2;
            long i = lo;
            for (; i < hi && i % STEP != 0; i++) {
                store(out, dst, dstBase + (i - lo) * os, type.value(code(i)) * scales.of(i / blocksize));
            }
            // The byte load may read up to 8 bytes: it stays inside the packed data. At 512 bits the
            // table is one vector, looked up inline so the JIT keeps this loop whole.
            IntVector t0 = table[0];
            float scale = 0;
            long scaledBlock = -1;
            for (; i + STEP <= hi && i / 2 + BYTES.length() <= packedBytes; i += STEP) {
                if (i / blocksize != scaledBlock) {
                    scaledBlock = i / blocksize;
                    scale = scales.of(scaledBlock);
                }
                IntVector bytes = (IntVector) ByteVector.fromMemorySegment(BYTES, src, srcBase + i / 2, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector high = bytes.lanewise(VectorOperators.LSHR, 4);
                IntVector low = bytes.and(0xF);
                IntVector firstCodes = ZIP_FIRST.selectFrom(high, low);
                IntVector secondCodes = ZIP_SECOND.selectFrom(high, low);
                FloatVector first = (ONE_TABLE_VECTOR ? firstCodes.selectFrom(t0).reinterpretAsFloats() : lookup(firstCodes, table)).mul(scale);
                FloatVector second = (ONE_TABLE_VECTOR ? secondCodes.selectFrom(t0).reinterpretAsFloats() : lookup(secondCodes, table)).mul(scale);
                long at = dstBase + (i - lo) * os;
                if (out == DType.F32) {
                    first.intoMemorySegment(dst, at, LE);
                    second.intoMemorySegment(dst, at + (long) L * 4, LE);
                } else {
                    Bf16Vectors.round(first).intoMemorySegment(dst, at, LE);
                    Bf16Vectors.round(second).intoMemorySegment(dst, at + (long) L * 2, LE);
                }
            }
            for (; i < hi; i++) {
                store(out, dst, dstBase + (i - lo) * os, type.value(code(i)) * scales.of(i / blocksize));
            }
        }

        /**
         * x rearranged for {@link #dot}: within each chunk of 8L elements, element {@code 8·lane + e}
         * moves to {@code e·L + lane}, the order in which one int vector of packed bytes yields its
         * codes (lane l holds bytes 4l..4l+3, whose nibbles are elements 8l..8l+7).
         */
        static float[] permuteForDot(float[] x) {
            float[] p = new float[x.length];
            for (int c = 0; c < x.length; c += CHUNK_CODES) {
                for (int lane = 0; lane < L; lane++) {
                    for (int e = 0; e < 8; e++) {
                        p[c + e * L + lane] = x[c + 8 * lane + e];
                    }
                }
            }
            return p;
        }

        /** Whether {@link #dot} applies to rows of k elements: whole chunks and whole blocks per row. */
        boolean dotApplies(int k) {
            return k % CHUNK_CODES == 0 && k % blocksize == 0;
        }

        /**
         * {@code Σ_p x[p] · W_flat[start + p]} for a row of k elements (see {@link #dotApplies}),
         * reading half a byte per weight: each int-vector load holds 8L codes, taken out nibble by
         * nibble with shifts and looked up in registers, multiplied by x in the matching order
         * ({@link #permuteForDot}), then scaled per block with a vector of the blocks' absmax values.
         */
        float dot(long start, int k, float[] xPermuted) {
            IntVector t0 = table[0];
            int lanesPerBlock = blocksize / 8;
            VectorMask<Float>[] groups = LANE_GROUPS[Integer.numberOfTrailingZeros(Math.min(lanesPerBlock, L))];
            FloatVector acc = FloatVector.zero(S);
            for (int c = 0; c < k; c += CHUNK_CODES) {
                IntVector v = IntVector.fromMemorySegment(I, src, srcBase + (start + c) / 2, LE);
                // Two independent chains (high and low nibbles) halve the FMA latency on the critical path.
                FloatVector high = FloatVector.zero(S);
                FloatVector low = FloatVector.zero(S);
                for (int b = 0; b < 4; b++) {
                    // Byte b of each lane holds elements 8·lane + 2b (high nibble) and 8·lane + 2b + 1.
                    IntVector hiCodes = v.lanewise(VectorOperators.LSHR, 8 * b + 4).and(0xF);
                    IntVector loCodes = v.lanewise(VectorOperators.LSHR, 8 * b).and(0xF);
                    FloatVector hiValues = ONE_TABLE_VECTOR ? hiCodes.selectFrom(t0).reinterpretAsFloats() : lookup(hiCodes, table);
                    FloatVector loValues = ONE_TABLE_VECTOR ? loCodes.selectFrom(t0).reinterpretAsFloats() : lookup(loCodes, table);
                    high = hiValues.fma(FloatVector.fromArray(S, xPermuted, c + 2 * b * L), high);
                    low = loValues.fma(FloatVector.fromArray(S, xPermuted, c + (2 * b + 1) * L), low);
                }
                FloatVector sum = high.add(low);
                long firstBlock = (start + c) / blocksize;
                FloatVector blockScales = FloatVector.broadcast(S, scales.of(firstBlock));
                for (int g = 1; g * lanesPerBlock < L; g++) {
                    blockScales = blockScales.blend(scales.of(firstBlock + g), groups[g]);
                }
                acc = sum.fma(blockScales, acc);
            }
            return VectorWidth.sumLanes(acc);
        }
    }

    private static void store(DType out, MemorySegment dst, long at, float v) {
        if (out == DType.F32) {
            dst.set(F32, at, v);
        } else {
            dst.set(ValueLayout.JAVA_SHORT_UNALIGNED, at, FloatBits.floatToBf16(v));
        }
    }

    static Tensor fourBit(FourBitWeight w, DType out) {
        Decoder d = Decoder.of(w);
        Tensor result = Tensor.empty(out, w.shape(), dev.qlora4j.engine.Device.CPU);
        MemorySegment dst = result.segment();
        long dstBase = result.byteOffset();
        long n = d.n();
        int tasks = (int) ((n + CHUNK - 1) / CHUNK);
        CpuKernels.parallel(tasks, t -> {
            long lo = (long) t * CHUNK;
            d.decode(lo, Math.min(n, lo + CHUNK), out, dst, dstBase + lo * out.byteSize());
        });
        return result;
    }

    /** Element i, dequantized to f32 with its block's absmax: the scalar definition. */
    static float element(FourBitWeight w, float[] absmax, long i) {
        int b = Byte.toUnsignedInt(w.packed().segment().get(ValueLayout.JAVA_BYTE, w.packed().byteOffset() + i / 2));
        int code = (i & 1) == 0 ? b >>> 4 : b & 0xF;
        return w.type().value(code) * absmax[(int) (i / w.blocksize())];
    }

    /** The reference: every element through {@link #element}, in f32, one at a time. */
    static float[] fourBitScalar(FourBitWeight w) {
        float[] absmax = w.absmax();
        float[] out = new float[Math.toIntExact(w.shape().numel())];
        for (int i = 0; i < out.length; i++) {
            out[i] = element(w, absmax, i);
        }
        return out;
    }
}
