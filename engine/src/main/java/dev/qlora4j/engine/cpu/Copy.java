package dev.qlora4j.engine.cpu;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.spi.Bf16Vectors;
import dev.qlora4j.engine.spi.VectorWidth;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Fill, strided copy and dtype conversion (casts). F32→BF16 rounds to nearest-even in vector
 * registers; BF16→F32 is a shift; F16 uses the JDK's conversions, which the JIT vectorizes.
 * The test kit's {@code CastReference} is the independent scalar oracle for the rounding.
 */
final class Copy {
    private static final VectorSpecies<Float> S = VectorWidth.FLOATS;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;

    private Copy() {
    }

    static void fill(Tensor t, float value) {
        if (!t.isContiguous()) {
            for (long i = 0; i < t.numel(); i++) {
                t.setFlat(i, value);
            }
            return;
        }
        MemorySegment s = t.segment().asSlice(t.byteOffset(), t.numel() * t.dtype().byteSize());
        if (value == 0 && Float.floatToRawIntBits(value) == 0) {
            s.fill((byte) 0);
            return;
        }
        long n = t.numel();
        switch (t.dtype()) {
            case F32 -> {
                for (long i = 0; i < n; i++) {
                    s.set(FLOAT, i * 4, value);
                }
            }
            default -> {
                // Convert once through a one-element tensor write, then replicate the bytes.
                t.setFlat(0, value);
                int size = t.dtype().byteSize();
                for (long i = 1; i < n; i++) {
                    MemorySegment.copy(s, 0, s, i * size, size);
                }
            }
        }
    }

    /** dst = src converted to dst's dtype; either may be a strided view. */
    static void copy(ParallelPool pool, Tensor src, Tensor dst) {
        long n = src.numel();
        if (n == 0) {
            return;
        }
        if (!src.isContiguous() || !dst.isContiguous()) {
            copyStrided(src, dst);
            return;
        }
        MemorySegment from = src.segment();
        MemorySegment to = dst.segment();
        long fromBase = src.byteOffset();
        long toBase = dst.byteOffset();
        DType st = src.dtype();
        DType dt = dst.dtype();
        if (st == dt) {
            MemorySegment.copy(from, fromBase, to, toBase, n * st.byteSize());
            return;
        }
        int chunk = 1 << 14;
        int tasks = (int) ((n + chunk - 1) / chunk);
        pool.run(n < CpuBackend.PARALLEL_MIN_ELEMENTS ? 1 : tasks, t -> {
            long lo = n < CpuBackend.PARALLEL_MIN_ELEMENTS ? 0 : (long) t * chunk;
            long hi = n < CpuBackend.PARALLEL_MIN_ELEMENTS ? n : Math.min(n, lo + chunk);
            convert(st, from, fromBase, dt, to, toBase, lo, hi);
        });
    }

    /** Elements [lo, hi) of a contiguous run, converted from st to dt. */
    private static void convert(DType st, MemorySegment from, long fromBase, DType dt, MemorySegment to, long toBase,
                                long lo, long hi) {
        int ss = st.byteSize();
        int ds = dt.byteSize();
        long i = lo;
        if (st == DType.F32 && dt == DType.BF16) {
            for (long bound = lo + S.loopBound(hi - lo); i < bound; i += S.length()) {
                IntVector bits = FloatVector.fromMemorySegment(S, from, fromBase + i * 4, LE).reinterpretAsInts();
                Bf16Vectors.round(bits).intoMemorySegment(to, toBase + i * 2, LE);
            }
        } else if (st == DType.BF16 && dt == DType.F32) {
            for (long bound = lo + S.loopBound(hi - lo); i < bound; i += S.length()) {
                Bf16Vectors.widen(from, fromBase + i * 2).intoMemorySegment(to, toBase + i * 4, LE);
            }
        } else if (st == DType.F32 && dt == DType.F16) {
            for (; i < hi; i++) {
                to.set(SHORT, toBase + i * 2, Float.floatToFloat16(from.get(FLOAT, fromBase + i * 4)));
            }
        } else if (st == DType.F16 && dt == DType.F32) {
            for (; i < hi; i++) {
                to.set(FLOAT, toBase + i * 4, Float.float16ToFloat(from.get(SHORT, fromBase + i * 2)));
            }
        }
        for (; i < hi; i++) {
            dt.writeFloat(to, toBase + i * ds, st.readFloat(from, fromBase + i * ss));
        }
    }

    private static void copyStrided(Tensor src, Tensor dst) {
        // Views that are not contiguous (transposes, slices): row by row over the last axis, the
        // outer axes of both walked with counters; F32 to F32 moves floats directly.
        int rank = src.rank();
        int[] dims = src.shape().dims();
        long[] strides = src.strides();
        long[] dstStrides = dst.strides();
        MemorySegment from = src.segment();
        MemorySegment to = dst.segment();
        DType st = src.dtype();
        DType dt = dst.dtype();
        int ss = st.byteSize();
        int ds = dt.byteSize();
        int inner = rank == 0 ? 1 : dims[rank - 1];
        long innerStride = rank == 0 ? 0 : strides[rank - 1];
        long dstInnerStride = rank == 0 ? 0 : dstStrides[rank - 1] * ds;
        long rows = inner == 0 ? 0 : src.numel() / inner;
        int[] idx = new int[Math.max(rank - 1, 0)];
        long off = src.offset();
        long outRow = dst.byteOffset();
        boolean floats = st == DType.F32 && dt == DType.F32;
        for (long r = 0; r < rows; r++) {
            long at = off;
            long out = outRow;
            for (int j = 0; j < inner; j++, at += innerStride, out += dstInnerStride) {
                if (floats) {
                    to.set(FLOAT, out, from.get(FLOAT, at * 4));
                } else {
                    writeFloatOrBits(st, from, at * ss, dt, to, out);
                }
            }
            for (int d = rank - 2; d >= 0; d--) {
                off += strides[d];
                outRow += dstStrides[d] * ds;
                if (++idx[d] < dims[d]) {
                    break;
                }
                off -= strides[d] * dims[d];
                outRow -= dstStrides[d] * dims[d] * ds;
                idx[d] = 0;
            }
        }
    }

    /** Copies one element: raw bytes when the dtypes agree (exact for integers), else via float. */
    private static void writeFloatOrBits(DType st, MemorySegment from, long at, DType dt, MemorySegment to, long dstAt) {
        if (st == dt) {
            MemorySegment.copy(from, at, to, dstAt, st.byteSize());
        } else {
            dt.writeFloat(to, dstAt, st.readFloat(from, at));
        }
    }
}
