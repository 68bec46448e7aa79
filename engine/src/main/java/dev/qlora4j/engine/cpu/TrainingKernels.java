package dev.qlora4j.engine.cpu;

import dev.qlora4j.engine.AdamWStep;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The CPU side of {@link dev.qlora4j.engine.spi.Backend}'s training-step kernels: rotary embedding,
 * embedding gather and scatter-add, the causal fill, cross-entropy's pieces and the AdamW update.
 * Plain loops: each touches every element once, and none is a hot spot next to the matmuls.
 * Tensors are contiguous (the backend contract), so element i of t is at {@code t.byteOffset() + 4i}.
 */
final class TrainingKernels {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort BF16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private TrainingKernels() {
    }

    static void rope(Tensor x, Tensor cos, Tensor sin, boolean inverse, Tensor out) {
        int t = cos.dim(0);
        int hd = cos.dim(1);
        int half = hd / 2;
        long rows = x.numel() / hd;
        MemorySegment xs = x.segment();
        MemorySegment cs = cos.segment();
        MemorySegment ss = sin.segment();
        MemorySegment os = out.segment();
        for (long row = 0; row < rows; row++) {
            long p = row % t;
            long base = x.byteOffset() + row * hd * 4;
            long outBase = out.byteOffset() + row * hd * 4;
            long table = p * hd * 4;
            for (int i = 0; i < hd; i++) {
                float xi = xs.get(F, base + i * 4L);
                float c = cs.get(F, cos.byteOffset() + table + i * 4L);
                float rotated;
                if (!inverse) {
                    rotated = (i < half ? -xs.get(F, base + (i + half) * 4L) : xs.get(F, base + (i - half) * 4L))
                            * ss.get(F, sin.byteOffset() + table + i * 4L);
                } else {
                    // The transpose of rotate_half applied to dy·sin: [z2, -z1] with z = dy·sin.
                    rotated = i < half
                            ? xs.get(F, base + (i + half) * 4L) * ss.get(F, sin.byteOffset() + table + (i + half) * 4L)
                            : -xs.get(F, base + (i - half) * 4L) * ss.get(F, sin.byteOffset() + table + (i - half) * 4L);
                }
                os.set(F, outBase + i * 4L, xi * c + rotated);
            }
        }
    }

    /** Rows of an F32 table are copied; a BF16 row widens to F32 exactly (its bits are the float's high half). */
    static void embedding(Tensor table, Tensor ids, Tensor out) {
        int d = table.dim(1);
        long rowBytes = (long) d * table.dtype().byteSize();
        for (long i = 0; i < ids.numel(); i++) {
            int id = ids.segment().get(I, ids.byteOffset() + i * 4);
            long from = table.byteOffset() + id * rowBytes;
            long to = out.byteOffset() + i * d * 4L;
            if (table.dtype() == DType.F32) {
                MemorySegment.copy(table.segment(), from, out.segment(), to, rowBytes);
            } else {
                for (int j = 0; j < d; j++) {
                    short bits = table.segment().get(BF16, from + j * 2L);
                    out.segment().set(F, to + j * 4L, Float.intBitsToFloat((bits & 0xFFFF) << 16));
                }
            }
        }
    }

    static void embeddingBackward(Tensor dy, Tensor ids, Tensor grad) {
        int d = grad.dim(1);
        MemorySegment src = dy.segment();
        MemorySegment dst = grad.segment();
        for (long i = 0; i < ids.numel(); i++) {
            int id = ids.segment().get(I, ids.byteOffset() + i * 4);
            long from = dy.byteOffset() + i * d * 4;
            long to = grad.byteOffset() + (long) id * d * 4;
            for (int j = 0; j < d; j++) {
                long o = j * 4L;
                dst.set(F, to + o, dst.get(F, to + o) + src.get(F, from + o));
            }
        }
    }

    static void fillAboveDiagonal(Tensor t, float value) {
        int size = t.dim(-1);
        MemorySegment seg = t.segment();
        long matrices = t.numel() / ((long) size * size);
        for (long m = 0; m < matrices; m++) {
            for (int i = 0; i < size; i++) {
                long row = t.byteOffset() + (m * size * size + (long) i * size) * 4;
                for (int j = i + 1; j < size; j++) {
                    seg.set(F, row + j * 4L, value);
                }
            }
        }
    }

    static void pickTargets(Tensor lsm, Tensor targets, int ignoreIndex, Tensor out) {
        int v = lsm.dim(1);
        for (long i = 0; i < targets.numel(); i++) {
            int t = targets.segment().get(I, targets.byteOffset() + i * 4);
            float picked = t == ignoreIndex ? 0f : lsm.segment().get(F, lsm.byteOffset() + (i * v + t) * 4);
            out.segment().set(F, out.byteOffset() + i * 4, picked);
        }
    }

    static void crossEntropyBackward(Tensor lsm, Tensor targets, int ignoreIndex, float scale, Tensor out) {
        int v = lsm.dim(1);
        MemorySegment ls = lsm.segment();
        MemorySegment os = out.segment();
        for (long i = 0; i < targets.numel(); i++) {
            int t = targets.segment().get(I, targets.byteOffset() + i * 4);
            for (int j = 0; j < v; j++) {
                long k = (i * v + j) * 4;
                float g = t == ignoreIndex ? 0f
                        : (ReproducibleExp.exp(ls.get(F, lsm.byteOffset() + k)) - (j == t ? 1f : 0f)) * scale;
                os.set(F, out.byteOffset() + k, g);
            }
        }
    }

    static void adamw(Tensor p, Tensor grad, Tensor m, Tensor v, AdamWStep s) {
        MemorySegment ps = p.segment();
        MemorySegment gs = grad.segment();
        MemorySegment ms = m.segment();
        MemorySegment vs = v.segment();
        for (long i = 0; i < p.numel(); i++) {
            long o = i * 4;
            float gi = gs.get(F, grad.byteOffset() + o);
            float mi = s.beta1() * ms.get(F, m.byteOffset() + o) + (1 - s.beta1()) * gi;
            float vi = s.beta2() * vs.get(F, v.byteOffset() + o) + (1 - s.beta2()) * gi * gi;
            ms.set(F, m.byteOffset() + o, mi);
            vs.set(F, v.byteOffset() + o, vi);
            float pi = ps.get(F, p.byteOffset() + o);
            pi -= s.lr() * s.weightDecay() * pi;
            pi -= s.lr() * (mi / s.c1()) / ((float) Math.sqrt(vi / s.c2()) + s.eps());
            ps.set(F, p.byteOffset() + o, pi);
        }
    }
}
