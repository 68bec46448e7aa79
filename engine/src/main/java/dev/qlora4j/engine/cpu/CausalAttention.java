package dev.qlora4j.engine.cpu;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.spi.VectorWidth;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Fused causal self-attention with grouped-query heads, forward and backward:
 * <pre>
 *   s_ij = scale · q_i·k_j  (j ≤ i),   p_ij = exp(s_ij − lse_i),   lse_i = log Σ_j exp(s_ij),
 *   out_i = Σ_j p_ij v_j
 * </pre>
 * for q [B, H, T, d] and k, v [B, G, T, d], query head h reading key/value head h / (H/G). Query
 * rows go in blocks of {@value #BLOCK}: a block's scores against the keys it may see are a
 * [BLOCK, i1] scratch matrix, so no T×T tensor exists and no key or value is repeated per query
 * head; what the backward needs besides the inputs and the output is the per-row log-sum-exp. The
 * block products are the engine's GEMM ({@link Gemm}): S = Q·Kᵀ, out = P·V; and in the backward, with
 * {@code D_i = dout_i·out_i}, P recomputed from lse, dP = dout·Vᵀ and dS = P∘(dP − D)·scale:
 * dQ = dS·K, dK += dSᵀ·Q, dV += Pᵀ·dout.
 *
 * <p>Parallel over (batch, head) in the forward and over (batch, key/value head) in the backward,
 * where one task owns a key/value head's dk and dv and walks its query heads and blocks in a fixed
 * order; a task's products run on its own thread, so the sums have the same order at any thread
 * count. The test kit's {@code AttentionReference} is the f64 oracle.
 */
final class CausalAttention {
    private static final VectorSpecies<Float> S = VectorWidth.FLOATS;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** Query rows per block: the scratch is BLOCK × T floats, and the products are BLOCK rows tall. */
    static final int BLOCK = 64;

    private CausalAttention() {
    }

    /** out [B, H, T, d] and lse [B, H, T] from contiguous q [B, H, T, d], k and v [B, G, T, d]. */
    static void forward(ParallelPool pool, Tensor q, Tensor k, Tensor v, float scale, Tensor out, Tensor lse) {
        int b = q.dim(0);
        int h = q.dim(1);
        int t = q.dim(2);
        int d = q.dim(3);
        int g = k.dim(1);
        pool.run(b * h, task -> {
            int bi = task / h;
            int hi = task % h;
            long kvHead = (long) bi * g + hi / (h / g);
            long row0 = ((long) bi * h + hi) * t;
            float[] lseRow = new float[t];
            float[] p = new float[Math.min(BLOCK, t) * t];
            for (int i0 = 0; i0 < t; i0 += BLOCK) {
                int rows = Math.min(BLOCK, t - i0);
                int keys = i0 + rows;
                // S = Q[i0, i0 + rows) · K[0, keys)ᵀ, then each row's softmax over the keys it may see.
                product(rows, keys, d, rowsOf(q, row0 + i0, d), transposedRowsOf(k, kvHead * t, d), p, keys, false);
                for (int r = 0; r < rows; r++) {
                    int n = i0 + r + 1;
                    int o = r * keys;
                    scaleInPlace(p, o, n, scale);
                    float max = max(p, o, n);
                    float sum = expShifted(p, o, n, max);
                    scaleInPlace(p, o, n, 1f / sum);
                    java.util.Arrays.fill(p, o + n, o + keys, 0f);
                    lseRow[i0 + r] = max + (float) StrictMath.log(sum);
                }
                // out[i0, i0 + rows) = P · V[0, keys).
                product(rows, d, keys, heap(p, 0, keys), rowsOf(v, kvHead * t, d), out, row0 + i0, d);
            }
            MemorySegment.copy(lseRow, 0, lse.segment(), FLOAT, lse.byteOffset() + row0 * 4L, t);
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
        pool.run(b * g, task -> {
            int bi = task / g;
            int gi = task % g;
            long kvHead = (long) bi * g + gi;
            // dk and dv of this key/value head, summed over its query heads and blocks in a fixed order.
            float[] dkRows = new float[t * d];
            float[] dvRows = new float[t * d];
            int block = Math.min(BLOCK, t);
            float[] p = new float[block * t];
            float[] ds = new float[block * t];
            for (int hi = gi * group; hi < (gi + 1) * group; hi++) {
                long row0 = ((long) bi * h + hi) * t;
                for (int i0 = 0; i0 < t; i0 += BLOCK) {
                    int rows = Math.min(BLOCK, t - i0);
                    int keys = i0 + rows;
                    MatrixOperand qBlock = rowsOf(q, row0 + i0, d);
                    MatrixOperand gBlock = rowsOf(dout, row0 + i0, d);
                    product(rows, keys, d, qBlock, transposedRowsOf(k, kvHead * t, d), p, keys, false);
                    product(rows, keys, d, gBlock, transposedRowsOf(v, kvHead * t, d), ds, keys, false);
                    for (int r = 0; r < rows; r++) {
                        long row = row0 + i0 + r;
                        int n = i0 + r + 1;
                        int o = r * keys;
                        float rowLse = lse.segment().get(FLOAT, lse.byteOffset() + row * 4L);
                        float dRow = dot(dout, out, row * d, d);
                        scaleInPlace(p, o, n, scale);
                        expShifted(p, o, n, rowLse);
                        for (int j = 0; j < n; j++) {
                            ds[o + j] = p[o + j] * (ds[o + j] - dRow) * scale;
                        }
                        java.util.Arrays.fill(p, o + n, o + keys, 0f);
                        java.util.Arrays.fill(ds, o + n, o + keys, 0f);
                    }
                    // dQ = dS·K; dK += dSᵀ·Q; dV += Pᵀ·dout.
                    product(rows, d, keys, heap(ds, 0, keys), rowsOf(k, kvHead * t, d), dq, row0 + i0, d);
                    product(keys, d, rows, transposedHeap(ds, keys), qBlock, dkRows, d, true);
                    product(keys, d, rows, transposedHeap(p, keys), gBlock, dvRows, d, true);
                }
            }
            MemorySegment.copy(dkRows, 0, dk.segment(), FLOAT, dk.byteOffset() + kvHead * t * d * 4L, t * d);
            MemorySegment.copy(dvRows, 0, dv.segment(), FLOAT, dv.byteOffset() + kvHead * t * d * 4L, t * d);
        });
    }

    /** C[m, n] (=, or += with accumulate) A[m, k]·B[k, n] into a heap array with row length ldc. */
    private static void product(int m, int n, int k, MatrixOperand a, MatrixOperand bMatrix, float[] c, int ldc,
                                boolean accumulate) {
        Gemm.gemm(SERIAL, 1, m, n, k, a, bMatrix, heap(c, 0, ldc), accumulate);
    }

    /** out rows [firstRow, firstRow + m) of a contiguous [..., n] tensor = A[m, k]·B[k, n]. */
    private static void product(int m, int n, int k, MatrixOperand a, MatrixOperand bMatrix, Tensor out, long firstRow, int ld) {
        MatrixOperand c = new MatrixOperand(out.segment(), DType.F32, out.offset() + firstRow * ld, 0, ld, 1);
        Gemm.gemm(SERIAL, 1, m, n, k, a, bMatrix, c, false);
    }

    /** A task's products run on its own thread: tasks already use the pool. */
    private static final ParallelPool SERIAL = new ParallelPool(1);

    /** Rows from {@code firstRow} of a contiguous [..., d] tensor as a matrix. */
    private static MatrixOperand rowsOf(Tensor x, long firstRow, int d) {
        return new MatrixOperand(x.segment(), DType.F32, x.offset() + firstRow * d, 0, d, 1);
    }

    /** The transpose of rows from {@code firstRow} of a contiguous [..., d] tensor: element (c, j) is row j's c-th. */
    private static MatrixOperand transposedRowsOf(Tensor x, long firstRow, int d) {
        return new MatrixOperand(x.segment(), DType.F32, x.offset() + firstRow * d, 0, 1, d);
    }

    private static MatrixOperand heap(float[] a, int offset, int ld) {
        return new MatrixOperand(MemorySegment.ofArray(a), DType.F32, offset, 0, ld, 1);
    }

    /** The transpose of a heap matrix with row length ld. */
    private static MatrixOperand transposedHeap(float[] a, int ld) {
        return new MatrixOperand(MemorySegment.ofArray(a), DType.F32, 0, 0, 1, ld);
    }

    private static void scaleInPlace(float[] s, int o, int n, float by) {
        int j = 0;
        for (int bound = S.loopBound(n); j < bound; j += S.length()) {
            FloatVector.fromArray(S, s, o + j).mul(by).intoArray(s, o + j);
        }
        for (; j < n; j++) {
            s[o + j] *= by;
        }
    }

    private static float max(float[] s, int o, int n) {
        float m = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            m = Math.max(m, s[o + j]);
        }
        return m;
    }

    /** s[o, o + n) = exp(s − shift) in place; returns their sum (lanes, then the tail, in that order). */
    private static float expShifted(float[] s, int o, int n, float shift) {
        FloatVector by = FloatVector.broadcast(S, shift);
        FloatVector sum = FloatVector.zero(S);
        int j = 0;
        for (int bound = S.loopBound(n); j < bound; j += S.length()) {
            FloatVector e = ReproducibleExp.exp(FloatVector.fromArray(S, s, o + j).sub(by));
            sum = sum.add(e);
            e.intoArray(s, o + j);
        }
        float total = VectorWidth.sumLanes(sum);
        for (; j < n; j++) {
            s[o + j] = ReproducibleExp.exp(s[o + j] - shift);
            total += s[o + j];
        }
        return total;
    }

    /** a·b over d floats from element index at of two contiguous F32 tensors. */
    private static float dot(Tensor a, Tensor b, long at, int d) {
        MemorySegment as = a.segment();
        MemorySegment bs = b.segment();
        long ao = a.byteOffset() + at * 4L;
        long bo = b.byteOffset() + at * 4L;
        FloatVector acc = FloatVector.zero(S);
        int c = 0;
        for (int bound = S.loopBound(d); c < bound; c += S.length()) {
            acc = FloatVector.fromMemorySegment(S, as, ao + c * 4L, java.nio.ByteOrder.LITTLE_ENDIAN)
                    .fma(FloatVector.fromMemorySegment(S, bs, bo + c * 4L, java.nio.ByteOrder.LITTLE_ENDIAN), acc);
        }
        float sum = VectorWidth.sumLanes(acc);
        for (; c < d; c++) {
            sum = Math.fma(as.get(FLOAT, ao + c * 4L), bs.get(FLOAT, bo + c * 4L), sum);
        }
        return sum;
    }
}
