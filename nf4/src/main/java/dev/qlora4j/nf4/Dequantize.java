package dev.qlora4j.nf4;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.FloatBits;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.cpu.Bf16Vectors;
import dev.qlora4j.engine.cpu.CpuBackend;
import dev.qlora4j.engine.cpu.VectorWidth;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
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
    /** Elements per vector step: two float vectors, from L packed bytes. */
    private static final int STEP = 2 * L;
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
     * What decoding needs of a 4-bit weight, gathered once: its packed bytes, reconstructed absmax
     * and code table (as values and as lookup vectors).
     */
    record Decoder(MemorySegment src, long srcBase, long n, float[] absmax, int blocksize, QuantType type,
                   IntVector[] table) {
        static Decoder of(FourBitWeight w) {
            w.packed().checkOpen("dequantize");
            return new Decoder(w.packed().segment(), w.packed().byteOffset(), w.shape().numel(), w.absmax(),
                    w.blocksize(), w.type(), tables(w.type().codeValues()));
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
                store(out, dst, dstBase + (i - lo) * os, element(src, srcBase, absmax, blocksize, type, i));
            }
            // The byte load may read up to 8 bytes: it stays inside the packed data.
            for (; i + STEP <= hi && i / 2 + BYTES.length() <= packedBytes; i += STEP) {
                float scale = absmax[(int) (i / blocksize)];
                IntVector bytes = ((IntVector) ByteVector.fromMemorySegment(BYTES, src, srcBase + i / 2, LE)
                        .convertShape(VectorOperators.B2I, I, 0)).and(0xFF);
                IntVector high = bytes.lanewise(VectorOperators.LSHR, 4);
                IntVector low = bytes.and(0xF);
                FloatVector first = lookup(ZIP_FIRST.selectFrom(high, low), table).mul(scale);
                FloatVector second = lookup(ZIP_SECOND.selectFrom(high, low), table).mul(scale);
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
                store(out, dst, dstBase + (i - lo) * os, element(src, srcBase, absmax, blocksize, type, i));
            }
        }

        /**
         * {@code Σ_p x[p] · W_flat[start + p]} for p < k, where start and k are whole blocks (and whole
         * vector steps): per block, the code values times x accumulate in a vector, which is then
         * scaled by the block's absmax once. Reads half a byte per weight.
         */
        float dot(long start, int k, float[] x) {
            FloatVector acc = FloatVector.zero(S);
            for (int b0 = 0; b0 < k; b0 += blocksize) {
                FloatVector block = FloatVector.zero(S);
                for (int p = b0; p < b0 + blocksize; p += STEP) {
                    long i = start + p;
                    IntVector bytes = ((IntVector) ByteVector.fromMemorySegment(BYTES, src, srcBase + i / 2, LE)
                            .convertShape(VectorOperators.B2I, I, 0)).and(0xFF);
                    IntVector high = bytes.lanewise(VectorOperators.LSHR, 4);
                    IntVector low = bytes.and(0xF);
                    block = lookup(ZIP_FIRST.selectFrom(high, low), table).fma(FloatVector.fromArray(S, x, p), block);
                    block = lookup(ZIP_SECOND.selectFrom(high, low), table).fma(FloatVector.fromArray(S, x, p + L), block);
                }
                acc = block.fma(FloatVector.broadcast(S, absmax[(int) ((start + b0) / blocksize)]), acc);
            }
            return acc.reduceLanes(VectorOperators.ADD);
        }

        /**
         * Whether {@link #dot} applies to rows of {@code k} elements: whole blocks, and byte loads no
         * wider than a step (at 128 bits they would read past the last byte).
         */
        boolean rowsAreWholeBlocks(int k) {
            return k % blocksize == 0 && blocksize % STEP == 0 && BYTES.length() == L;
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
        if (out != DType.F32 && out != DType.BF16) {
            throw new IllegalArgumentException("dequantize " + w + ": output dtype " + out + ", expected F32 or BF16");
        }
        Decoder d = Decoder.of(w);
        Tensor result = Tensor.empty(out, w.shape(), dev.qlora4j.engine.Device.CPU);
        MemorySegment dst = result.segment();
        long dstBase = result.byteOffset();
        long n = d.n();
        int tasks = (int) ((n + CHUNK - 1) / CHUNK);
        CpuBackend.shared().pool().run(tasks, t -> {
            long lo = (long) t * CHUNK;
            d.decode(lo, Math.min(n, lo + CHUNK), out, dst, dstBase + lo * out.byteSize());
        });
        return result;
    }

    /** Element i, dequantized to f32: the scalar definition. */
    static float element(MemorySegment src, long srcBase, float[] absmax, int blocksize, QuantType type, long i) {
        int b = Byte.toUnsignedInt(src.get(ValueLayout.JAVA_BYTE, srcBase + i / 2));
        int code = (i & 1) == 0 ? b >>> 4 : b & 0xF;
        return type.value(code) * absmax[(int) (i / blocksize)];
    }

    /** The reference: every element through {@link #element}, in f32, one at a time. */
    static float[] fourBitScalar(FourBitWeight w) {
        int n = Math.toIntExact(w.shape().numel());
        float[] absmax = w.absmax();
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = element(w.packed().segment(), w.packed().byteOffset(), absmax, w.blocksize(), w.type(), i);
        }
        return out;
    }
}
