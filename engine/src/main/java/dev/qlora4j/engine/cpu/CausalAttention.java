package dev.qlora4j.engine.cpu;

import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.spi.VectorWidth;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Fused causal self-attention with grouped-query heads, forward and backward:
 * <pre>
 *   s_ij = scale · q_i·k_j  (j ≤ i),   p_ij = exp(s_ij − lse_i),   lse_i = log Σ_j exp(s_ij),
 *   out_i = Σ_j p_ij v_j
 * </pre>
 * for q [B, H, T, d] and k, v [B, G, T, d], query head h reading key/value head h / (H/G). A query
 * row is computed at a time with its scores in a T-long scratch row, so no T×T tensor exists and no
 * key or value is repeated per query head; what the backward needs besides the inputs and the
 * output is the per-row log-sum-exp. The backward recomputes p from it and accumulates, for each
 * query row i and key j ≤ i, with {@code D_i = dout_i·out_i} and {@code ds_ij = p_ij (dout_i·v_j − D_i)}:
 * {@code dq_i += scale·ds_ij k_j}, {@code dk_j += scale·ds_ij q_i}, {@code dv_j += p_ij dout_i}.
 *
 * <p>Parallel over (batch, head) in the forward and over (batch, key/value head) in the backward,
 * where one task owns a key/value head's dk and dv and walks its query heads and rows in a fixed
 * order: the sums have the same order at any thread count. The test kit's
 * {@code AttentionReference} is the f64 oracle.
 */
final class CausalAttention {
    private static final VectorSpecies<Float> S = VectorWidth.FLOATS;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private CausalAttention() {
    }

    /** out [B, H, T, d] and lse [B, H, T] from contiguous q [B, H, T, d], k and v [B, G, T, d]. */
    static void forward(ParallelPool pool, Tensor q, Tensor k, Tensor v, float scale, Tensor out, Tensor lse) {
        int b = q.dim(0);
        int h = q.dim(1);
        int t = q.dim(2);
        int d = q.dim(3);
        int g = k.dim(1);
        MemorySegment qs = q.segment();
        MemorySegment ks = k.segment();
        MemorySegment vs = v.segment();
        MemorySegment os = out.segment();
        MemorySegment ls = lse.segment();
        pool.run(b * h, task -> {
            int bi = task / h;
            int hi = task % h;
            long kv = k.byteOffset() + ((long) bi * g + hi / (h / g)) * t * d * 4L;
            long vv = v.byteOffset() + ((long) bi * g + hi / (h / g)) * t * d * 4L;
            float[] row = new float[t];
            float[] acc = new float[d];
            for (int i = 0; i < t; i++) {
                long qi = q.byteOffset() + (((long) bi * h + hi) * t + i) * d * 4L;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j <= i; j++) {
                    row[j] = scale * dot(qs, qi, ks, kv + (long) j * d * 4L, d);
                    max = Math.max(max, row[j]);
                }
                float sum = expShifted(row, i + 1, max);
                java.util.Arrays.fill(acc, 0f);
                float inv = 1f / sum;
                for (int j = 0; j <= i; j++) {
                    axpy(row[j] * inv, vs, vv + (long) j * d * 4L, acc, d);
                }
                long oi = out.byteOffset() + (((long) bi * h + hi) * t + i) * d * 4L;
                MemorySegment.copy(acc, 0, os, FLOAT, oi, d);
                ls.set(FLOAT, lse.byteOffset() + (((long) bi * h + hi) * t + i) * 4L, max + (float) StrictMath.log(sum));
            }
        });
    }

    /**
     * dq [B, H, T, d], dk and dv [B, G, T, d] (overwritten) from the forward's inputs, output and
     * lse, and the output's gradient dout; all contiguous.
     */
    static void backward(ParallelPool pool, Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor dout, float scale,
                         Tensor dq, Tensor dk, Tensor dv) {
        int b = q.dim(0);
        int h = q.dim(1);
        int t = q.dim(2);
        int d = q.dim(3);
        int g = k.dim(1);
        int group = h / g;
        MemorySegment qs = q.segment();
        MemorySegment ks = k.segment();
        MemorySegment vs = v.segment();
        MemorySegment os = out.segment();
        MemorySegment ls = lse.segment();
        MemorySegment gs = dout.segment();
        pool.run(b * g, task -> {
            int bi = task / g;
            int gi = task % g;
            long kvRows = ((long) bi * g + gi) * t * d * 4L;
            // dk and dv of this key/value head, summed over its query heads and rows in a fixed order.
            float[] dkAcc = new float[t * d];
            float[] dvAcc = new float[t * d];
            float[] dqRow = new float[d];
            float[] qRow = new float[d];
            float[] gRow = new float[d];
            for (int hi = gi * group; hi < (gi + 1) * group; hi++) {
                for (int i = 0; i < t; i++) {
                    long row = ((long) bi * h + hi) * t + i;
                    long qi = q.byteOffset() + row * d * 4L;
                    long gi4 = dout.byteOffset() + row * d * 4L;
                    MemorySegment.copy(qs, FLOAT, qi, qRow, 0, d);
                    MemorySegment.copy(gs, FLOAT, gi4, gRow, 0, d);
                    float rowLse = ls.get(FLOAT, lse.byteOffset() + row * 4L);
                    float dRow = dot(gs, gi4, os, out.byteOffset() + row * d * 4L, d);
                    java.util.Arrays.fill(dqRow, 0f);
                    for (int j = 0; j <= i; j++) {
                        long kj = k.byteOffset() + kvRows + (long) j * d * 4L;
                        long vj = v.byteOffset() + kvRows + (long) j * d * 4L;
                        float pij = ReproducibleExp.exp(scale * dot(qs, qi, ks, kj, d) - rowLse);
                        float ds = pij * (dot(gs, gi4, vs, vj, d) - dRow) * scale;
                        axpy(ds, ks, kj, dqRow, d);
                        axpy(ds, qRow, dkAcc, j * d, d);
                        axpy(pij, gRow, dvAcc, j * d, d);
                    }
                    MemorySegment.copy(dqRow, 0, dq.segment(), FLOAT, dq.byteOffset() + row * d * 4L, d);
                }
            }
            MemorySegment.copy(dkAcc, 0, dk.segment(), FLOAT, dk.byteOffset() + kvRows, t * d);
            MemorySegment.copy(dvAcc, 0, dv.segment(), FLOAT, dv.byteOffset() + kvRows, t * d);
        });
    }

    /** row[0, n) = exp(row − max) in place; returns their sum (lanes, then the tail, in that order). */
    private static float expShifted(float[] row, int n, float max) {
        FloatVector shift = FloatVector.broadcast(S, max);
        FloatVector sum = FloatVector.zero(S);
        int j = 0;
        for (int bound = S.loopBound(n); j < bound; j += S.length()) {
            FloatVector e = ReproducibleExp.exp(FloatVector.fromArray(S, row, j).sub(shift));
            sum = sum.add(e);
            e.intoArray(row, j);
        }
        float s = VectorWidth.sumLanes(sum);
        for (; j < n; j++) {
            row[j] = ReproducibleExp.exp(row[j] - max);
            s += row[j];
        }
        return s;
    }

    /** a·b over d floats of two segments. */
    private static float dot(MemorySegment a, long ao, MemorySegment b, long bo, int d) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(d); i < bound; i += S.length()) {
            acc = FloatVector.fromMemorySegment(S, a, ao + i * 4L, LE).fma(FloatVector.fromMemorySegment(S, b, bo + i * 4L, LE), acc);
        }
        float s = VectorWidth.sumLanes(acc);
        for (; i < d; i++) {
            s = Math.fma(a.get(FLOAT, ao + i * 4L), b.get(FLOAT, bo + i * 4L), s);
        }
        return s;
    }

    /** y[0, d) += alpha·x for x in a segment. */
    private static void axpy(float alpha, MemorySegment x, long xo, float[] y, int d) {
        FloatVector a = FloatVector.broadcast(S, alpha);
        int i = 0;
        for (int bound = S.loopBound(d); i < bound; i += S.length()) {
            FloatVector.fromMemorySegment(S, x, xo + i * 4L, LE).fma(a, FloatVector.fromArray(S, y, i)).intoArray(y, i);
        }
        for (; i < d; i++) {
            y[i] = Math.fma(alpha, x.get(FLOAT, xo + i * 4L), y[i]);
        }
    }

    /** y[yo, yo + d) += alpha·x for x in an array. */
    private static void axpy(float alpha, float[] x, float[] y, int yo, int d) {
        FloatVector a = FloatVector.broadcast(S, alpha);
        int i = 0;
        for (int bound = S.loopBound(d); i < bound; i += S.length()) {
            FloatVector.fromArray(S, x, i).fma(a, FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < d; i++) {
            y[yo + i] = Math.fma(alpha, x[i], y[yo + i]);
        }
    }
}
