package dev.qlora4j.engine.cpu;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.spi.Bf16Vectors;
import dev.qlora4j.engine.spi.VectorWidth;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Matrix-vector products {@code y[j] = Σ_p x[p] · W[j, p]} for W whose rows are contiguous (the
 * {@code x·Wᵀ} of a linear layer on one token). Each weight element is used once, so the work is
 * streaming W through dot products — packing it for the GEMM micro-kernel would cost more than the
 * arithmetic. F32 or BF16 weights; rows are split across the pool.
 */
public final class Gemv {
    private static final VectorSpecies<Float> S = VectorWidth.FLOATS;
    private static final int L = S.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Rows per parallel task. */
    private static final int ROWS_PER_TASK = 64;

    private Gemv() {
    }

    /**
     * @param x     f32 or bf16 vector of k elements at element offset {@code xOffset}
     * @param w     rows of W, row j at element {@code wOffset + j * wRowStride}, k contiguous elements each
     * @param y     f32 output of n elements at element offset {@code yOffset}
     */
    public static void gemv(ParallelPool pool, int n, int k, MemorySegment x, DType xType, long xOffset,
                            MemorySegment w, DType wType, long wOffset, long wRowStride,
                            MemorySegment y, long yOffset, boolean accumulate) {
        float[] xs = new float[k];
        for (int p = 0; p < k; p++) {
            xs[p] = xType.readFloat(x, (xOffset + p) * xType.byteSize());
        }
        int tasks = (n + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
        pool.run(tasks, t -> {
            for (int j = t * ROWS_PER_TASK; j < Math.min(n, (t + 1) * ROWS_PER_TASK); j++) {
                float dot = dot(xs, k, w, wType, (wOffset + j * wRowStride) * wType.byteSize());
                long at = (yOffset + j) * Float.BYTES;
                y.set(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, at,
                        accumulate ? y.get(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, at) + dot : dot);
            }
        });
    }

    /** Σ x[p]·row[p] with four vector accumulators; the row is F32 or BF16 from byte {@code at}. */
    static float dot(float[] x, int k, MemorySegment w, DType wType, long at) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
        int size = wType.byteSize();
        int p = 0;
        for (; p + 4 * L <= k; p += 4 * L) {
            a0 = load(wType, w, at + (long) p * size).fma(FloatVector.fromArray(S, x, p), a0);
            a1 = load(wType, w, at + (long) (p + L) * size).fma(FloatVector.fromArray(S, x, p + L), a1);
            a2 = load(wType, w, at + (long) (p + 2 * L) * size).fma(FloatVector.fromArray(S, x, p + 2 * L), a2);
            a3 = load(wType, w, at + (long) (p + 3 * L) * size).fma(FloatVector.fromArray(S, x, p + 3 * L), a3);
        }
        for (; p + L <= k; p += L) {
            a0 = load(wType, w, at + (long) p * size).fma(FloatVector.fromArray(S, x, p), a0);
        }
        float sum = VectorWidth.sumLanes(a0.add(a1).add(a2.add(a3)));
        for (; p < k; p++) {
            sum += x[p] * wType.readFloat(w, at + (long) p * size);
        }
        return sum;
    }

    private static FloatVector load(DType t, MemorySegment s, long at) {
        return t == DType.BF16 ? Bf16Vectors.widen(s, at) : FloatVector.fromMemorySegment(S, s, at, LE);
    }
}
