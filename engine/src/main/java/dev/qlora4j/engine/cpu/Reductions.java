package dev.qlora4j.engine.cpu;

import dev.qlora4j.engine.ReduceOp;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.spi.VectorWidth;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Reduction of a contiguous F32 tensor along one axis, viewed as {@code [outer, len, inner]}. With
 * {@code inner == 1} each row reduces across vector lanes; otherwise vectors run along the inner
 * axis and accumulate over {@code len}. The test kit's {@code RowReference.reduce} is the f64 oracle.
 */
final class Reductions {
    private static final VectorSpecies<Float> S = VectorWidth.FLOATS;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private Reductions() {
    }

    static float identity(ReduceOp op) {
        return switch (op) {
            case SUM, MEAN -> 0f;
            case MAX -> Float.NEGATIVE_INFINITY;
            case MIN -> Float.POSITIVE_INFINITY;
        };
    }

    static float combine(ReduceOp op, float acc, float x) {
        return switch (op) {
            case SUM, MEAN -> acc + x;
            case MAX -> Math.max(acc, x);
            case MIN -> Math.min(acc, x);
        };
    }

    static FloatVector combine(ReduceOp op, FloatVector acc, FloatVector x) {
        return switch (op) {
            case SUM, MEAN -> acc.add(x);
            case MAX -> acc.max(x);
            case MIN -> acc.min(x);
        };
    }

    static float reduceLanes(ReduceOp op, FloatVector v) {
        return switch (op) {
            case SUM, MEAN -> VectorWidth.sumLanes(v);
            case MAX -> v.reduceLanes(VectorOperators.MAX);
            case MIN -> v.reduceLanes(VectorOperators.MIN);
        };
    }

    static void reduce(ParallelPool pool, ReduceOp op, Tensor x, int axis, Tensor out) {
        int[] dims = x.shape().dims();
        long outerCount = 1;
        for (int d = 0; d < axis; d++) {
            outerCount *= dims[d];
        }
        long outer = outerCount;
        int len = dims[axis];
        long inner = 1;
        for (int d = axis + 1; d < dims.length; d++) {
            inner *= dims[d];
        }
        MemorySegment src = x.segment();
        MemorySegment dst = out.segment();
        long sb = x.byteOffset();
        long db = out.byteOffset();
        float scale = op == ReduceOp.MEAN ? 1f / len : 1f;
        long innerF = inner;
        int tasks = x.numel() < CpuBackend.PARALLEL_MIN_ELEMENTS ? 1 : (int) Math.min(outer, pool.threads() * 4L);
        long perTask = (outer + tasks - 1) / Math.max(tasks, 1);
        pool.run(tasks, t -> {
            for (long o = t * perTask; o < Math.min(outer, (t + 1) * perTask); o++) {
                long rowBase = sb + o * len * innerF * 4;
                if (innerF == 1) {
                    dst.set(FLOAT, db + o * 4, reduceRow(op, src, rowBase, len) * scale);
                } else {
                    reduceColumns(op, src, rowBase, len, innerF, dst, db + o * innerF * 4, scale);
                }
            }
        });
    }

    /** One contiguous row of {@code len} floats, four vector accumulators deep. */
    private static float reduceRow(ReduceOp op, MemorySegment s, long base, int len) {
        int l = S.length();
        FloatVector a0 = FloatVector.broadcast(S, identity(op));
        FloatVector a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (int bound = len - 4 * l; i <= bound; i += 4 * l) {
            a0 = combine(op, a0, FloatVector.fromMemorySegment(S, s, base + i * 4L, LE));
            a1 = combine(op, a1, FloatVector.fromMemorySegment(S, s, base + (i + l) * 4L, LE));
            a2 = combine(op, a2, FloatVector.fromMemorySegment(S, s, base + (i + 2 * l) * 4L, LE));
            a3 = combine(op, a3, FloatVector.fromMemorySegment(S, s, base + (i + 3 * l) * 4L, LE));
        }
        for (int bound = S.loopBound(len); i < bound; i += l) {
            a0 = combine(op, a0, FloatVector.fromMemorySegment(S, s, base + i * 4L, LE));
        }
        float acc = reduceLanes(op, combine(op, combine(op, a0, a1), combine(op, a2, a3)));
        for (; i < len; i++) {
            acc = combine(op, acc, s.get(FLOAT, base + i * 4L));
        }
        return acc;
    }

    /** {@code out[j]} = reduce over r of {@code x[r, j]}, for {@code j < inner}: vectors along j. */
    private static void reduceColumns(ReduceOp op, MemorySegment s, long base, int len, long inner, MemorySegment d,
                                      long dBase, float scale) {
        long j = 0;
        for (long bound = S.loopBound(inner); j < bound; j += S.length()) {
            FloatVector acc = FloatVector.broadcast(S, identity(op));
            for (int r = 0; r < len; r++) {
                acc = combine(op, acc, FloatVector.fromMemorySegment(S, s, base + (r * inner + j) * 4, LE));
            }
            acc.mul(scale).intoMemorySegment(d, dBase + j * 4, LE);
        }
        for (; j < inner; j++) {
            float acc = identity(op);
            for (int r = 0; r < len; r++) {
                acc = combine(op, acc, s.get(FLOAT, base + (r * inner + j) * 4));
            }
            d.set(FLOAT, dBase + j * 4, acc * scale);
        }
    }
}
