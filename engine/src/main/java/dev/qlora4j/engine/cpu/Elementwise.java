package dev.qlora4j.engine.cpu;

import dev.qlora4j.engine.BinaryOp;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.UnaryOp;
import dev.qlora4j.engine.spi.VectorWidth;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Elementwise F32 kernels. Each op has a vector form and a scalar float form (for loop tails) side
 * by side; the test kit's {@code ElementwiseReference} holds the f64 oracles.
 *
 * <p>Broadcasting: after merging axes that are contiguous in all three tensors, the innermost run is
 * one of vector·vector, vector·scalar or scalar·vector, and the outer axes are walked with counters.
 */
final class Elementwise {
    private static final VectorSpecies<Float> S = VectorWidth.FLOATS;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final int CHUNK = 1 << 14;

    private Elementwise() {
    }

    static FloatVector apply(UnaryOp op, FloatVector x) {
        return switch (op) {
            case NEG -> x.neg();
            case ABS -> x.abs();
            case EXP -> ReproducibleExp.exp(x);
            case LOG -> eachLane(x, UnaryOp.LOG);
            case SQRT -> x.sqrt();
            case RSQRT -> x.broadcast(1f).div(x.sqrt());
            case SQUARE -> x.mul(x);
            case RECIPROCAL -> x.broadcast(1f).div(x);
            case TANH -> eachLane(x, UnaryOp.TANH);
            case SIGMOID -> x.broadcast(1f).div(ReproducibleExp.exp(x.neg()).add(1f));
            case SILU -> x.div(ReproducibleExp.exp(x.neg()).add(1f));
            case RELU -> x.max(0f);
        };
    }

    /**
     * The scalar form in each lane. For log and tanh, whose {@code lanewise} forms give different
     * last bits in C2 than in the other tiers (so results would depend on JIT timing), and which no
     * training step runs in a hot loop.
     */
    private static FloatVector eachLane(FloatVector x, UnaryOp op) {
        float[] lanes = x.toArray();
        for (int i = 0; i < lanes.length; i++) {
            lanes[i] = apply(op, lanes[i]);
        }
        return FloatVector.fromArray(S, lanes, 0);
    }

    static float apply(UnaryOp op, float x) {
        return switch (op) {
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case EXP -> ReproducibleExp.exp(x);
            case LOG -> (float) StrictMath.log(x);
            case SQRT -> (float) Math.sqrt(x);
            case RSQRT -> 1f / (float) Math.sqrt(x);
            case SQUARE -> x * x;
            case RECIPROCAL -> 1f / x;
            case TANH -> (float) StrictMath.tanh(x);
            case SIGMOID -> 1f / (1f + ReproducibleExp.exp(-x));
            case SILU -> x / (1f + ReproducibleExp.exp(-x));
            case RELU -> Math.max(x, 0f);
        };
    }

    static FloatVector apply(BinaryOp op, FloatVector a, FloatVector b) {
        return switch (op) {
            case ADD -> a.add(b);
            case SUB -> a.sub(b);
            case MUL -> a.mul(b);
            case DIV -> a.div(b);
            case MAX -> a.max(b);
            case MIN -> a.min(b);
        };
    }

    static float apply(BinaryOp op, float a, float b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
        };
    }

    /** out = op(x), both contiguous. */
    static void unary(ParallelPool pool, UnaryOp op, Tensor x, Tensor out) {
        MemorySegment src = x.segment();
        MemorySegment dst = out.segment();
        long sb = x.byteOffset();
        long db = out.byteOffset();
        inChunks(pool, x.numel(), (lo, hi) -> {
            long i = lo;
            for (long bound = lo + S.loopBound(hi - lo); i < bound; i += S.length()) {
                apply(op, FloatVector.fromMemorySegment(S, src, sb + i * 4, LE)).intoMemorySegment(dst, db + i * 4, LE);
            }
            for (; i < hi; i++) {
                dst.set(FLOAT, db + i * 4, apply(op, src.get(FLOAT, sb + i * 4)));
            }
        });
    }

    /** out = op(x, s), or op(s, x) when {@code scalarFirst}; x and out contiguous. */
    static void binaryScalar(ParallelPool pool, BinaryOp op, Tensor x, float s, boolean scalarFirst, Tensor out) {
        MemorySegment src = x.segment();
        MemorySegment dst = out.segment();
        long sb = x.byteOffset();
        long db = out.byteOffset();
        FloatVector sv = FloatVector.broadcast(S, s);
        inChunks(pool, x.numel(), (lo, hi) -> {
            long i = lo;
            for (long bound = lo + S.loopBound(hi - lo); i < bound; i += S.length()) {
                FloatVector v = FloatVector.fromMemorySegment(S, src, sb + i * 4, LE);
                (scalarFirst ? apply(op, sv, v) : apply(op, v, sv)).intoMemorySegment(dst, db + i * 4, LE);
            }
            for (; i < hi; i++) {
                float v = src.get(FLOAT, sb + i * 4);
                dst.set(FLOAT, db + i * 4, scalarFirst ? apply(op, s, v) : apply(op, v, s));
            }
        });
    }

    /** out = silu(gate)·up, all contiguous and of one shape. */
    static void swiglu(ParallelPool pool, Tensor gate, Tensor up, Tensor out) {
        MemorySegment g = gate.segment();
        MemorySegment u = up.segment();
        MemorySegment o = out.segment();
        long gb = gate.byteOffset();
        long ub = up.byteOffset();
        long ob = out.byteOffset();
        inChunks(pool, gate.numel(), (lo, hi) -> {
            long i = lo;
            for (long bound = lo + S.loopBound(hi - lo); i < bound; i += S.length()) {
                FloatVector gv = FloatVector.fromMemorySegment(S, g, gb + i * 4, LE);
                apply(UnaryOp.SILU, gv).mul(FloatVector.fromMemorySegment(S, u, ub + i * 4, LE)).intoMemorySegment(o, ob + i * 4, LE);
            }
            for (; i < hi; i++) {
                o.set(FLOAT, ob + i * 4, apply(UnaryOp.SILU, g.get(FLOAT, gb + i * 4)) * u.get(FLOAT, ub + i * 4));
            }
        });
    }

    /**
     * SwiGLU's backward: {@code dup = dy·silu(g)}, {@code dgate = dy·u·σ(g)·(1 + g·(1 - σ(g)))}, with
     * σ and silu as {@link #apply(UnaryOp, FloatVector)} computes them; all contiguous and of one shape.
     */
    static void swigluBackward(ParallelPool pool, Tensor gate, Tensor up, Tensor dy, Tensor dgate, Tensor dup) {
        MemorySegment g = gate.segment();
        MemorySegment u = up.segment();
        MemorySegment d = dy.segment();
        MemorySegment dg = dgate.segment();
        MemorySegment du = dup.segment();
        long gb = gate.byteOffset();
        long ub = up.byteOffset();
        long db = dy.byteOffset();
        long dgb = dgate.byteOffset();
        long dub = dup.byteOffset();
        inChunks(pool, gate.numel(), (lo, hi) -> {
            long i = lo;
            for (long bound = lo + S.loopBound(hi - lo); i < bound; i += S.length()) {
                FloatVector gv = FloatVector.fromMemorySegment(S, g, gb + i * 4, LE);
                FloatVector dyv = FloatVector.fromMemorySegment(S, d, db + i * 4, LE);
                FloatVector s = apply(UnaryOp.SIGMOID, gv);
                dyv.mul(apply(UnaryOp.SILU, gv)).intoMemorySegment(du, dub + i * 4, LE);
                FloatVector local = s.mul(gv.mul(s.broadcast(1f).sub(s)).add(1f));
                dyv.mul(FloatVector.fromMemorySegment(S, u, ub + i * 4, LE)).mul(local).intoMemorySegment(dg, dgb + i * 4, LE);
            }
            for (; i < hi; i++) {
                float gi = g.get(FLOAT, gb + i * 4);
                float dyi = d.get(FLOAT, db + i * 4);
                float s = apply(UnaryOp.SIGMOID, gi);
                du.set(FLOAT, dub + i * 4, dyi * apply(UnaryOp.SILU, gi));
                dg.set(FLOAT, dgb + i * 4, dyi * u.get(FLOAT, ub + i * 4) * (s * (gi * (1f - s) + 1f)));
            }
        });
    }

    /** A range {@code [lo, hi)} of elements. */
    private interface Range {
        void run(long lo, long hi);
    }

    /** Runs {@code body} over {@code [0, n)} in chunks of {@link #CHUNK} on the pool, or whole on this thread when small. */
    private static void inChunks(ParallelPool pool, long n, Range body) {
        int tasks = n < CpuBackend.PARALLEL_MIN_ELEMENTS ? 1 : (int) ((n + CHUNK - 1) / CHUNK);
        pool.run(tasks, t -> {
            long lo = tasks == 1 ? 0 : (long) t * CHUNK;
            long hi = tasks == 1 ? n : Math.min(n, lo + CHUNK);
            body.run(lo, hi);
        });
    }

    /** out = op(a, b) with broadcasting; out is contiguous with the broadcast shape. */
    static void binary(ParallelPool pool, BinaryOp op, Tensor a, Tensor b, Tensor out) {
        int rank = out.rank();
        int[] dims = out.shape().dims();
        long[] as = broadcastStrides(a, rank, dims);
        long[] bs = broadcastStrides(b, rank, dims);
        long[] os = out.shape().contiguousStrides();
        // Merge neighbouring axes that step uniformly in all three tensors.
        int r = 0;
        int[] md = new int[Math.max(rank, 1)];
        long[] ma = new long[md.length];
        long[] mb = new long[md.length];
        long[] mo = new long[md.length];
        md[0] = 1;
        for (int d = 0; d < rank; d++) {
            if (dims[d] == 1) {
                continue;
            }
            if (r > 0 && ma[r - 1] == as[d] * dims[d] && mb[r - 1] == bs[d] * dims[d] && mo[r - 1] == os[d] * dims[d]) {
                md[r - 1] *= dims[d];
                ma[r - 1] = as[d];
                mb[r - 1] = bs[d];
                mo[r - 1] = os[d];
            } else {
                md[r] = dims[d];
                ma[r] = as[d];
                mb[r] = bs[d];
                mo[r] = os[d];
                r++;
            }
        }
        if (r == 0) {
            r = 1;
            md[0] = 1;
        }
        int inner = md[r - 1];
        long rows = out.numel() / Math.max(inner, 1);
        if (out.numel() == 0) {
            return;
        }
        final int rr = r;
        MemorySegment sa = a.segment();
        MemorySegment sb = b.segment();
        MemorySegment so = out.segment();
        long aBase = a.byteOffset();
        long bBase = b.byteOffset();
        long oBase = out.byteOffset();
        long rowsPerTask = Math.max(1, CHUNK / Math.max(inner, 1));
        int tasks = out.numel() < CpuBackend.PARALLEL_MIN_ELEMENTS ? 1 : (int) ((rows + rowsPerTask - 1) / rowsPerTask);
        long perTask = tasks == 1 ? rows : rowsPerTask;
        pool.run(tasks, t -> {
            long lo = t * perTask;
            long hi = Math.min(rows, lo + perTask);
            for (long row = lo; row < hi; row++) {
                // Offsets of this row's first element from the outer-axis coordinates.
                long ao = 0, bo = 0, oo = 0, rem = row;
                for (int d = rr - 2; d >= 0; d--) {
                    long c = rem % md[d];
                    rem /= md[d];
                    ao += c * ma[d];
                    bo += c * mb[d];
                    oo += c * mo[d];
                }
                run(op, inner, sa, aBase + ao * 4, ma[rr - 1], sb, bBase + bo * 4, mb[rr - 1], so, oBase + oo * 4);
            }
        });
    }

    /** One innermost run of {@code n} elements; strides are 0 (broadcast) or 1 (contiguous) or other. */
    private static void run(BinaryOp op, int n, MemorySegment a, long ab, long as, MemorySegment b, long bb, long bs,
                            MemorySegment o, long ob) {
        int i = 0;
        if (as == 1 && bs == 1) {
            for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                apply(op, FloatVector.fromMemorySegment(S, a, ab + i * 4L, LE), FloatVector.fromMemorySegment(S, b, bb + i * 4L, LE))
                        .intoMemorySegment(o, ob + i * 4L, LE);
            }
        } else if (as == 1 && bs == 0) {
            FloatVector bv = FloatVector.broadcast(S, b.get(FLOAT, bb));
            for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                apply(op, FloatVector.fromMemorySegment(S, a, ab + i * 4L, LE), bv).intoMemorySegment(o, ob + i * 4L, LE);
            }
        } else if (as == 0 && bs == 1) {
            FloatVector av = FloatVector.broadcast(S, a.get(FLOAT, ab));
            for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                apply(op, av, FloatVector.fromMemorySegment(S, b, bb + i * 4L, LE)).intoMemorySegment(o, ob + i * 4L, LE);
            }
        }
        for (; i < n; i++) {
            o.set(FLOAT, ob + i * 4L, apply(op, a.get(FLOAT, ab + i * as * 4), b.get(FLOAT, bb + i * bs * 4)));
        }
    }

    /** t's element strides seen at the output's rank: 0 along axes that broadcast. */
    private static long[] broadcastStrides(Tensor t, int rank, int[] outDims) {
        long[] s = new long[rank];
        int shift = rank - t.rank();
        for (int d = 0; d < t.rank(); d++) {
            s[d + shift] = t.dim(d) == 1 && outDims[d + shift] != 1 ? 0 : t.stride(d);
        }
        return s;
    }
}
