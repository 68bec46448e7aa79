package dev.qlora4j.engine.cpu;

import dev.qlora4j.engine.ReduceOp;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.spi.VectorWidth;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Kernels over the last axis of a contiguous F32 tensor, one row at a time: softmax, log-softmax,
 * RMSNorm. The test kit's {@code RowReference} holds their f64 oracles.
 */
final class RowKernels {
    private static final VectorSpecies<Float> S = VectorWidth.FLOATS;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private RowKernels() {
    }

    private static void forEachRow(ParallelPool pool, Tensor x, RowBody body) {
        int n = x.dim(-1);
        long rows = x.numel() / n;
        int tasks = x.numel() < CpuBackend.PARALLEL_MIN_ELEMENTS ? 1 : (int) Math.min(rows, pool.threads() * 4L);
        long perTask = (rows + tasks - 1) / Math.max(tasks, 1);
        pool.run(tasks, t -> {
            for (long r = t * perTask; r < Math.min(rows, (t + 1) * perTask); r++) {
                body.row(r, n);
            }
        });
    }

    private interface RowBody {
        void row(long r, int n);
    }

    /**
     * softmax(x)_i = exp(x_i - max) / Σ exp(x_j - max); log-softmax = x_i - max - log Σ exp(x_j - max).
     * Subtracting the row maximum keeps exp from overflowing.
     */
    static void softmax(ParallelPool pool, Tensor x, Tensor out, boolean log) {
        MemorySegment s = x.segment();
        MemorySegment d = out.segment();
        long sb = x.byteOffset();
        long db = out.byteOffset();
        forEachRow(pool, x, (r, n) -> {
            long in = sb + r * n * 4;
            long o = db + r * n * 4;
            float max = rowReduce(ReduceOp.MAX, s, in, n);
            // Pass 1: e_i = exp(x_i - max) into out, summing as we go.
            FloatVector vmax = FloatVector.broadcast(S, max);
            FloatVector vsum = FloatVector.zero(S);
            int i = 0;
            for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                FloatVector e = ReproducibleExp.exp(FloatVector.fromMemorySegment(S, s, in + i * 4L, LE).sub(vmax));
                vsum = vsum.add(e);
                e.intoMemorySegment(d, o + i * 4L, LE);
            }
            float sum = VectorWidth.sumLanes(vsum);
            for (; i < n; i++) {
                float e = ReproducibleExp.exp(s.get(FLOAT, in + i * 4L) - max);
                sum += e;
                d.set(FLOAT, o + i * 4L, e);
            }
            // Pass 2: normalise.
            if (log) {
                FloatVector shift = FloatVector.broadcast(S, max + (float) StrictMath.log(sum));
                i = 0;
                for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                    FloatVector.fromMemorySegment(S, s, in + i * 4L, LE).sub(shift).intoMemorySegment(d, o + i * 4L, LE);
                }
                float sh = max + (float) StrictMath.log(sum);
                for (; i < n; i++) {
                    d.set(FLOAT, o + i * 4L, s.get(FLOAT, in + i * 4L) - sh);
                }
            } else {
                float inv = 1f / sum;
                i = 0;
                for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                    FloatVector.fromMemorySegment(S, d, o + i * 4L, LE).mul(inv).intoMemorySegment(d, o + i * 4L, LE);
                }
                for (; i < n; i++) {
                    d.set(FLOAT, o + i * 4L, d.get(FLOAT, o + i * 4L) * inv);
                }
            }
        });
    }

    /** out = x * (1 / sqrt(mean(x²) + eps)) * w along each row. */
    static void rmsNorm(ParallelPool pool, Tensor x, Tensor w, float eps, Tensor out) {
        MemorySegment s = x.segment();
        MemorySegment ws = w.segment();
        MemorySegment d = out.segment();
        long sb = x.byteOffset();
        long wb = w.byteOffset();
        long db = out.byteOffset();
        forEachRow(pool, x, (r, n) -> {
            long in = sb + r * n * 4;
            long o = db + r * n * 4;
            FloatVector ss = FloatVector.zero(S);
            int i = 0;
            for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                FloatVector v = FloatVector.fromMemorySegment(S, s, in + i * 4L, LE);
                ss = v.fma(v, ss);
            }
            float sum = VectorWidth.sumLanes(ss);
            for (; i < n; i++) {
                float v = s.get(FLOAT, in + i * 4L);
                sum += v * v;
            }
            float scale = (float) (1.0 / Math.sqrt(sum / n + eps));
            i = 0;
            for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                FloatVector.fromMemorySegment(S, s, in + i * 4L, LE).mul(scale)
                        .mul(FloatVector.fromMemorySegment(S, ws, wb + i * 4L, LE)).intoMemorySegment(d, o + i * 4L, LE);
            }
            for (; i < n; i++) {
                d.set(FLOAT, o + i * 4L, s.get(FLOAT, in + i * 4L) * scale * ws.get(FLOAT, wb + i * 4L));
            }
        });
    }

    /**
     * dx = r·(dy·w − x·r²·Σ(dy·w·x)/n) per row, r = 1/sqrt(Σx²/n + eps): one pass for the two sums,
     * one for dx (scalar forms for the tails beside the vector ones).
     */
    static void rmsNormBackward(ParallelPool pool, Tensor x, Tensor w, Tensor dy, float eps, Tensor dx) {
        MemorySegment xs = x.segment();
        MemorySegment ws = w.segment();
        MemorySegment gs = dy.segment();
        MemorySegment ds = dx.segment();
        long xb = x.byteOffset();
        long wb = w.byteOffset();
        long gb = dy.byteOffset();
        long db = dx.byteOffset();
        forEachRow(pool, x, (r, n) -> {
            long row = r * n * 4;
            FloatVector ssv = FloatVector.zero(S);
            FloatVector dotv = FloatVector.zero(S);
            int i = 0;
            for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                FloatVector v = FloatVector.fromMemorySegment(S, xs, xb + row + i * 4L, LE);
                FloatVector g = FloatVector.fromMemorySegment(S, gs, gb + row + i * 4L, LE)
                        .mul(FloatVector.fromMemorySegment(S, ws, wb + i * 4L, LE));
                ssv = v.fma(v, ssv);
                dotv = g.fma(v, dotv);
            }
            float ss = VectorWidth.sumLanes(ssv);
            float dot = VectorWidth.sumLanes(dotv);
            for (; i < n; i++) {
                float v = xs.get(FLOAT, xb + row + i * 4L);
                ss += v * v;
                dot += gs.get(FLOAT, gb + row + i * 4L) * ws.get(FLOAT, wb + i * 4L) * v;
            }
            float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
            float c = scale * scale * (dot / n);
            i = 0;
            for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                FloatVector g = FloatVector.fromMemorySegment(S, gs, gb + row + i * 4L, LE)
                        .mul(FloatVector.fromMemorySegment(S, ws, wb + i * 4L, LE));
                g.sub(FloatVector.fromMemorySegment(S, xs, xb + row + i * 4L, LE).mul(c)).mul(scale)
                        .intoMemorySegment(ds, db + row + i * 4L, LE);
            }
            for (; i < n; i++) {
                float g = gs.get(FLOAT, gb + row + i * 4L) * ws.get(FLOAT, wb + i * 4L);
                ds.set(FLOAT, db + row + i * 4L, (g - xs.get(FLOAT, xb + row + i * 4L) * c) * scale);
            }
        });
    }

    private static float rowReduce(ReduceOp op, MemorySegment s, long base, int n) {
        FloatVector acc = FloatVector.broadcast(S, Reductions.identity(op));
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            acc = Reductions.combine(op, acc, FloatVector.fromMemorySegment(S, s, base + i * 4L, LE));
        }
        float r = Reductions.reduceLanes(op, acc);
        for (; i < n; i++) {
            r = Reductions.combine(op, r, s.get(FLOAT, base + i * 4L));
        }
        return r;
    }
}
