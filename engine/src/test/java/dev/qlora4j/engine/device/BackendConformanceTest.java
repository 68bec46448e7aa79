package dev.qlora4j.engine.device;

import dev.qlora4j.engine.AdamWStep;
import dev.qlora4j.engine.BinaryOp;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.DeviceConstants;
import dev.qlora4j.engine.Indices;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.ReduceOp;
import dev.qlora4j.engine.Shape;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.TrainingOps;
import dev.qlora4j.engine.UnaryOp;
import dev.qlora4j.engine.spi.Backend;
import dev.qlora4j.engine.spi.CpuKernels;
import dev.qlora4j.testkit.AttentionReference;
import dev.qlora4j.testkit.CastReference;
import dev.qlora4j.testkit.ElementwiseReference;
import dev.qlora4j.testkit.RowReference;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * Every {@link Backend} kernel on one device against its f64 definition, reached through the
 * engine's public entries ({@link Ops}, {@link TrainingOps}, {@link Tensor}). Inputs are made on the
 * CPU, moved to {@link #device()}, computed there and moved back: the same checks run for the CPU
 * and, in the CUDA backend's tests, for CUDA (skipped without a GPU) and the CUDA host emulator.
 */
public abstract class BackendConformanceTest {
    /** The device under test; subclasses skip (assumptions) when it is not usable here. */
    protected abstract Device device();

    /** The device's backend itself, for the checks its own guards make below the public entries. */
    protected abstract Backend backend();

    static float[] random(SplittableRandom r, int n, double lo, double hi) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (lo + r.nextDouble() * (hi - lo));
        }
        return v;
    }

    private Tensor onDevice(float[] v, int... dims) {
        try (Tensor host = Tensor.of(v, dims)) {
            return host.to(device());
        }
    }

    private Tensor ids(int[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = v[i];
        }
        try (Tensor host = Tensor.of(DType.I32, f, v.length)) {
            return host.to(device());
        }
    }

    private static void close(double expected, double actual, double tol, String what) {
        if (!(Math.abs(expected - actual) <= tol * Math.max(1, Math.abs(expected)))) {
            fail(what + ": " + actual + ", expected " + expected);
        }
    }

    @Test
    void roundTripsAndCastsOfStridedViews() {
        float[] v = random(new SplittableRandom(1), 3 * 5 * 7, -300, 300);
        try (Tensor x = onDevice(v, 3, 5, 7); Tensor xt = x.transpose(0, 2);
             Tensor bf = Ops.cast(xt, DType.BF16); Tensor f16 = Ops.cast(xt, DType.F16); Tensor i32 = Ops.cast(xt, DType.I32);
             Tensor u8 = Ops.cast(xt, DType.U8); Tensor back = Ops.cast(bf, DType.F32)) {
            assertArrayEquals(v, x.toFloatArray());
            float[] b = bf.toFloatArray();
            float[] h = f16.toFloatArray();
            float[] i = i32.toFloatArray();
            float[] u = u8.toFloatArray();
            for (int a = 0; a < 7; a++) {
                for (int m = 0; m < 5; m++) {
                    for (int c = 0; c < 3; c++) {
                        int at = (a * 5 + m) * 3 + c;
                        float src = v[(c * 5 + m) * 7 + a];
                        assertEquals(CastReference.decodeBf16(CastReference.roundToBf16(src)), b[at], 0, "bf16 of " + src);
                        assertEquals(CastReference.decodeF16(CastReference.roundToF16(src)), h[at], 0, "f16 of " + src);
                        assertEquals(Math.rint(src), i[at], 0, "i32 of " + src);
                        assertEquals(Math.max(0, Math.min(255, Math.rint(src))), u[at], 0, "u8 of " + src);
                    }
                }
            }
            assertArrayEquals(b, back.toFloatArray());
        }
    }

    @Test
    void copyIntoAStridedView() {
        float[] v = random(new SplittableRandom(2), 4 * 3, -1, 1);
        try (Tensor src = onDevice(v, 4, 3); Tensor dst = Tensor.zeros(DType.F32, Shape.of(4, 8), device());
             Tensor window = dst.slice(1, 2, 5)) {
            Ops.copyInto(src, window);
            float[] d = dst.toFloatArray();
            for (int r = 0; r < 4; r++) {
                for (int c = 0; c < 8; c++) {
                    assertEquals(c >= 2 && c < 5 ? v[r * 3 + c - 2] : 0f, d[r * 8 + c], 0, "[" + r + ", " + c + "]");
                }
            }
        }
    }

    @Test
    void fillConvertsTheValueAsTheDtypeDoes() {
        for (DType t : new DType[]{DType.F32, DType.BF16, DType.F16, DType.I32, DType.I8}) {
            float value = t.isFloatingPoint() ? 1.3f : -7f;
            try (Tensor x = Tensor.empty(t, Shape.of(1000), device())) {
                Ops.fill(x, value);
                double expected = switch (t) {
                    case BF16 -> CastReference.decodeBf16(CastReference.roundToBf16(value));
                    case F16 -> CastReference.decodeF16(CastReference.roundToF16(value));
                    default -> value;
                };
                for (float f : x.toFloatArray()) {
                    assertEquals(expected, f, 0, t + " fill");
                }
            }
        }
    }

    /** out[b] = a[b]·w as an f64 oracle; a [batch, m, k], w [k, n]. */
    private static double[] product(float[] a, float[] w, int batch, int m, int k, int n) {
        double[] out = new double[batch * m * n];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        s += (double) a[(b * m + i) * k + p] * w[p * n + j];
                    }
                    out[(b * m + i) * n + j] = s;
                }
            }
        }
        return out;
    }

    @Test
    void matmulWithSharedWeightTransposedViewsAndBatches() {
        SplittableRandom r = new SplittableRandom(3);
        int batch = 3;
        int m = 17;
        int k = 33;
        int n = 11;
        float[] a = random(r, batch * m * k, -1, 1);
        float[] w = random(r, k * n, -1, 1);
        double[] expected = product(a, w, batch, m, k, n);
        float[] wt = new float[n * k];
        for (int p = 0; p < k; p++) {
            for (int j = 0; j < n; j++) {
                wt[j * k + p] = w[p * n + j];
            }
        }
        try (Tensor ta = onDevice(a, batch, m, k); Tensor tw = onDevice(w, k, n); Tensor twt = onDevice(wt, n, k);
             Tensor viaTranspose = twt.transpose(0, 1); Tensor y1 = Ops.matmul(ta, tw); Tensor y2 = Ops.matmul(ta, viaTranspose)) {
            float[] g1 = y1.toFloatArray();
            float[] g2 = y2.toFloatArray();
            for (int i = 0; i < expected.length; i++) {
                close(expected[i], g1[i], 1e-5, "shared weight [" + i + "]");
                close(expected[i], g2[i], 1e-5, "transposed shared weight [" + i + "]");
            }
        }
        // Batched operands on both sides, the first one a transposed view: a[b]ᵀ·c[b].
        float[] c = random(r, batch * m * n, -1, 1);
        try (Tensor ta = onDevice(a, batch, m, k); Tensor tat = ta.transpose(1, 2); Tensor tc = onDevice(c, batch, m, n);
             Tensor y = Ops.matmul(tat, tc)) {
            float[] g = y.toFloatArray();
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < k; i++) {
                    for (int j = 0; j < n; j++) {
                        double s = 0;
                        for (int p = 0; p < m; p++) {
                            s += (double) a[(b * m + p) * k + i] * c[(b * m + p) * n + j];
                        }
                        close(s, g[(b * k + i) * n + j], 1e-5, "batched aᵀ·c");
                    }
                }
            }
        }
    }

    /** a [.., m, k]·b [.., k, n] from flat row-major arrays, batch-broadcasting a 2-D b. */
    private void checkProduct(String what, Tensor ta, Tensor tb, float[] a, float[] b, int batch, int m, int k, int n,
                              boolean bShared) {
        try (Tensor y = Ops.matmul(ta, tb)) {
            float[] g = y.toFloatArray();
            for (int bi = 0; bi < batch; bi++) {
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double s = 0;
                        for (int p = 0; p < k; p++) {
                            s += (double) a[(bi * m + i) * k + p] * b[(bShared ? 0 : bi * k * n) + p * n + j];
                        }
                        close(s, g[(bi * m + i) * n + j], 1e-5, what + " [" + bi + ", " + i + ", " + j + "]");
                    }
                }
            }
        }
    }

    @Test
    void matmulAtDegenerateShapesAndFourAxes() {
        SplittableRandom r = new SplittableRandom(12);
        int[][] mkn = {{1, 7, 5}, {6, 7, 1}, {6, 1, 5}, {1, 1, 1}, {1, 9, 1}};
        for (int[] s : mkn) {
            int m = s[0];
            int k = s[1];
            int n = s[2];
            float[] a = random(r, m * k, -1, 1);
            float[] b = random(r, k * n, -1, 1);
            float[] bt = new float[n * k];
            for (int p = 0; p < k; p++) {
                for (int j = 0; j < n; j++) {
                    bt[j * k + p] = b[p * n + j];
                }
            }
            try (Tensor ta = onDevice(a, m, k); Tensor tb = onDevice(b, k, n); Tensor tbt = onDevice(bt, n, k);
                 Tensor viewB = tbt.transpose(0, 1)) {
                String shape = m + "x" + k + "x" + n;
                checkProduct(shape, ta, tb, a, b, 1, m, k, n, true);
                checkProduct(shape + " with bᵀ as a view", ta, viewB, a, b, 1, m, k, n, true);
            }
        }
        // [2, 3, m, k] · [2, 3, k, n] with b given as the transposed view of [2, 3, n, k].
        int m = 4;
        int k = 6;
        int n = 5;
        float[] a = random(r, 6 * m * k, -1, 1);
        float[] b = random(r, 6 * k * n, -1, 1);
        float[] bt = new float[6 * n * k];
        for (int bi = 0; bi < 6; bi++) {
            for (int p = 0; p < k; p++) {
                for (int j = 0; j < n; j++) {
                    bt[bi * n * k + j * k + p] = b[bi * k * n + p * n + j];
                }
            }
        }
        try (Tensor ta = onDevice(a, 2, 3, m, k); Tensor tbt = onDevice(bt, 2, 3, n, k); Tensor viewB = tbt.transpose(2, 3)) {
            checkProduct("4-D batched", ta, viewB, a, b, 6, m, k, n, false);
        }
        // F16 operands: rounded to binary16, multiplied exactly, accumulated in F32.
        float[] ah = random(r, m * k, -1, 1);
        float[] bh = random(r, k * n, -1, 1);
        float[] ahr = new float[ah.length];
        float[] bhr = new float[bh.length];
        for (int i = 0; i < ah.length; i++) {
            ahr[i] = (float) CastReference.decodeF16(CastReference.roundToF16(ah[i]));
        }
        for (int i = 0; i < bh.length; i++) {
            bhr[i] = (float) CastReference.decodeF16(CastReference.roundToF16(bh[i]));
        }
        try (Tensor ta = onDevice(ah, m, k); Tensor tb = onDevice(bh, k, n); Tensor a16 = Ops.cast(ta, DType.F16);
             Tensor b16 = Ops.cast(tb, DType.F16)) {
            checkProduct("F16", a16, b16, ahr, bhr, 1, m, k, n, true);
        }
    }

    @Test
    void bf16MatmulAccumulatesInF32AndAccumulatesIntoOut() {
        SplittableRandom r = new SplittableRandom(4);
        int m = 9;
        int k = 40;
        int n = 13;
        float[] a = random(r, m * k, -2, 2);
        float[] w = random(r, k * n, -2, 2);
        float[] ar = new float[a.length];
        float[] wr = new float[w.length];
        for (int i = 0; i < a.length; i++) {
            ar[i] = (float) CastReference.decodeBf16(CastReference.roundToBf16(a[i]));
        }
        for (int i = 0; i < w.length; i++) {
            wr[i] = (float) CastReference.decodeBf16(CastReference.roundToBf16(w[i]));
        }
        double[] expected = product(ar, wr, 1, m, k, n);
        try (Tensor ta = onDevice(a, m, k); Tensor tw = onDevice(w, k, n); Tensor ab = Ops.cast(ta, DType.BF16);
             Tensor wb = Ops.cast(tw, DType.BF16); Tensor y = Ops.matmul(ab, wb)) {
            Ops.matmulAccumulate(ab, wb, y);
            float[] g = y.toFloatArray();
            for (int i = 0; i < expected.length; i++) {
                close(2 * expected[i], g[i], 1e-5, "2·(a·w) in bf16 [" + i + "]");
            }
        }
    }

    @Test
    void aBf16ResultIsTheF32SumRoundedOnce() {
        SplittableRandom r = new SplittableRandom(14);
        int m = 7;
        int k = 64;
        int n = 11;
        float[] a = random(r, m * k, -2, 2);
        float[] w = random(r, k * n, -2, 2);
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) CastReference.decodeBf16(CastReference.roundToBf16(a[i]));
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) CastReference.decodeBf16(CastReference.roundToBf16(w[i]));
        }
        double[] exact = product(a, w, 1, m, k, n);
        for (DType in : new DType[]{DType.BF16, DType.F32}) {
            try (Tensor ta = onDevice(a, m, k); Tensor tw = onDevice(w, k, n); Tensor ai = Ops.cast(ta, in);
                 Tensor wi = Ops.cast(tw, in); Tensor y = Ops.matmul(ai, wi, DType.BF16)) {
                assertEquals(DType.BF16, y.dtype());
                float[] g = y.toFloatArray();
                for (int i = 0; i < exact.length; i++) {
                    // The F32 sum is within k·2^-24 of exact (relative to Σ|a·w|); bf16 then rounds it once,
                    // so the result is one of the two bf16 values nearest to the exact product.
                    double lo = CastReference.decodeBf16(CastReference.roundToBf16(exact[i] * (1 - 1e-5)));
                    double hi = CastReference.decodeBf16(CastReference.roundToBf16(exact[i] * (1 + 1e-5)));
                    assertTrue(g[i] == lo || g[i] == hi || g[i] == CastReference.decodeBf16(CastReference.roundToBf16(exact[i])),
                            in + " [" + i + "]: " + g[i] + " for " + exact[i]);
                }
            }
        }
    }

    @Test
    void unaryOps() {
        SplittableRandom r = new SplittableRandom(5);
        for (UnaryOp op : UnaryOp.values()) {
            boolean positive = op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.RSQRT;
            float[] v = random(r, 1000, positive ? 1e-3 : -9, 9);
            try (Tensor x = onDevice(v, 10, 100); Tensor y = Ops.unary(op, x)) {
                float[] g = y.toFloatArray();
                for (int i = 0; i < v.length; i++) {
                    close(ElementwiseReference.unary(op.name(), v[i]), g[i], 2e-6, op + " of " + v[i]);
                }
            }
        }
    }

    @Test
    void fusedSwigluAndItsBackward() {
        SplittableRandom r = new SplittableRandom(15);
        int n = 3 * 1000 + 7;   // not a multiple of any vector width: the scalar tail runs too
        float[] g = random(r, n, -12, 12);
        float[] u = random(r, n, -3, 3);
        float[] dy = random(r, n, -2, 2);
        try (Tensor tg = onDevice(g, n); Tensor tu = onDevice(u, n); Tensor tdy = onDevice(dy, n);
             Tensor y = TrainingOps.swiglu(tg, tu)) {
            try (Tensor du = TrainingOps.swigluBackwardInPlace(tg, tu, tdy)) {
                float[] yv = y.toFloatArray();
                float[] dgv = tdy.toFloatArray();   // dgate, written over dy
                float[] duv = du.toFloatArray();
                for (int i = 0; i < n; i++) {
                    double[] exact = ElementwiseReference.swigluBackward(g[i], u[i], dy[i]);
                    close(ElementwiseReference.swiglu(g[i], u[i]), yv[i], 4e-6, "swiglu of " + g[i] + ", " + u[i]);
                    close(exact[0], dgv[i], 8e-6, "dgate at " + g[i] + ", " + u[i] + ", " + dy[i]);
                    close(exact[1], duv[i], 4e-6, "dup at " + g[i] + ", " + dy[i]);
                }
            }
        }
        try (Tensor a = onDevice(new float[6], 2, 3); Tensor b = onDevice(new float[6], 3, 2); Tensor bt = b.transpose(0, 1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainingOps.swiglu(a, b));
            assertTrue(e.getMessage().contains("swiglu: gate F32[2, 3]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> TrainingOps.swigluBackwardInPlace(a, a, bt));
            assertTrue(e.getMessage().contains("is a strided view"), e.getMessage());
        }
    }

    @Test
    void binaryOpsBroadcast() {
        SplittableRandom r = new SplittableRandom(6);
        float[] a = random(r, 4 * 6, -3, 3);
        float[] b = random(r, 5, 0.5, 3);
        for (BinaryOp op : BinaryOp.values()) {
            try (Tensor ta = onDevice(a, 4, 1, 6); Tensor tb = onDevice(b, 5, 1); Tensor y = Ops.binary(op, ta, tb)) {
                assertEquals(Shape.of(4, 5, 6), y.shape());
                float[] g = y.toFloatArray();
                for (int i = 0; i < 4; i++) {
                    for (int j = 0; j < 5; j++) {
                        for (int l = 0; l < 6; l++) {
                            close(ElementwiseReference.binary(op.name(), a[i * 6 + l], b[j]), g[(i * 5 + j) * 6 + l], 1e-6, op.toString());
                        }
                    }
                }
            }
        }
    }

    @Test
    void reductionsAlongALeadingAxisOfManyColumns() {
        // Enough columns that a GPU runs its thread-per-column kernel: [9, 3000] along axis 0.
        SplittableRandom r = new SplittableRandom(17);
        int rows = 9;
        int cols = 3000;
        float[] v = random(r, rows * cols, -2, 2);
        for (ReduceOp op : ReduceOp.values()) {
            try (Tensor x = onDevice(v, rows, cols); Tensor y = Ops.reduce(op, x, 0, false)) {
                double[] ref = RowReference.reduce(op.name(), v, 1, rows, cols);
                float[] g = y.toFloatArray();
                for (int j = 0; j < cols; j++) {
                    close(ref[j], g[j], 1e-5, op + " of column " + j);
                }
            }
        }
    }

    @Test
    void reductionsAlongEachAxis() {
        SplittableRandom r = new SplittableRandom(7);
        int[] dims = {3, 300, 5};
        float[] v = random(r, 3 * 300 * 5, -2, 2);
        for (ReduceOp op : ReduceOp.values()) {
            for (int axis = 0; axis < 3; axis++) {
                try (Tensor x = onDevice(v, dims); Tensor y = Ops.reduce(op, x, axis, true)) {
                    float[] g = y.toFloatArray();
                    int[] outDims = dims.clone();
                    outDims[axis] = 1;
                    for (int i = 0; i < g.length; i++) {
                        int[] at = {i / (outDims[1] * outDims[2]), i / outDims[2] % outDims[1], i % outDims[2]};
                        double acc = op == ReduceOp.MAX ? Double.NEGATIVE_INFINITY : op == ReduceOp.MIN ? Double.POSITIVE_INFINITY : 0;
                        for (int j = 0; j < dims[axis]; j++) {
                            at[axis] = j;
                            double x0 = v[(at[0] * dims[1] + at[1]) * dims[2] + at[2]];
                            acc = switch (op) {
                                case SUM, MEAN -> acc + x0;
                                case MAX -> Math.max(acc, x0);
                                case MIN -> Math.min(acc, x0);
                            };
                        }
                        if (op == ReduceOp.MEAN) {
                            acc /= dims[axis];
                        }
                        close(acc, g[i], 1e-5, op + " along " + axis);
                    }
                }
            }
        }
    }

    @Test
    void reductionsOfOneLongAxis() {
        // Long enough that a GPU reduces it in two passes (chunks, then the chunks), and one length
        // with no divisor in the chunk range, which keeps one pass.
        SplittableRandom r = new SplittableRandom(13);
        for (int n : new int[]{1 << 17, 3 * 5 * 7 * 11 * 13 * 17, 65537}) {
            float[] v = random(r, n, -2, 2);
            double sum = 0;
            double scale = 0;
            double max = Double.NEGATIVE_INFINITY;
            double min = Double.POSITIVE_INFINITY;
            for (float x : v) {
                sum += x;
                scale += Math.abs(x);
                max = Math.max(max, x);
                min = Math.min(min, x);
            }
            try (Tensor x = onDevice(v, n); Tensor s = Ops.reduce(ReduceOp.SUM, x, 0, false);
                 Tensor mx = Ops.reduce(ReduceOp.MAX, x, 0, false); Tensor mn = Ops.reduce(ReduceOp.MIN, x, 0, false);
                 Tensor mean = Ops.reduce(ReduceOp.MEAN, x, 0, false)) {
                assertEquals(sum, s.getFlat(0), 1e-6 * scale, "sum of " + n);
                assertEquals(sum / n, mean.getFlat(0), 1e-6 * scale / n, "mean of " + n);
                assertEquals(max, mx.getFlat(0), 0, "max of " + n);
                assertEquals(min, mn.getFlat(0), 0, "min of " + n);
            }
        }
    }

    @Test
    void softmaxLogSoftmaxAndRmsNormPerRow() {
        SplittableRandom r = new SplittableRandom(8);
        int rows = 7;
        int cols = 333;
        float[] v = random(r, rows * cols, -20, 20);
        float[] w = random(r, cols, 0.5, 1.5);
        try (Tensor x = onDevice(v, rows, cols); Tensor tw = onDevice(w, cols); Tensor s = Ops.softmax(x);
             Tensor ls = Ops.logSoftmax(x); Tensor n = Ops.rmsNorm(x, tw, 1e-5f)) {
            float[] gs = s.toFloatArray();
            float[] gl = ls.toFloatArray();
            float[] gn = n.toFloatArray();
            for (int i = 0; i < rows; i++) {
                double max = Double.NEGATIVE_INFINITY;
                double sq = 0;
                for (int j = 0; j < cols; j++) {
                    max = Math.max(max, v[i * cols + j]);
                    sq += (double) v[i * cols + j] * v[i * cols + j];
                }
                double sum = 0;
                for (int j = 0; j < cols; j++) {
                    sum += Math.exp(v[i * cols + j] - max);
                }
                double rms = 1 / Math.sqrt(sq / cols + 1e-5);
                for (int j = 0; j < cols; j++) {
                    int at = i * cols + j;
                    close(Math.exp(v[at] - max) / sum, gs[at], 1e-5, "softmax");
                    close(v[at] - max - Math.log(sum), gl[at], 1e-5, "logSoftmax");
                    close(v[at] * rms * w[j], gn[at], 1e-5, "rmsNorm");
                }
            }
        }
    }

    @Test
    void rmsNormBackwardMatchesTheF64Derivative() {
        SplittableRandom r = new SplittableRandom(18);
        int rows = 5;
        int cols = 4 * 128 + 3;   // a block of 256 threads strides it twice with a tail; vectors leave a tail too
        float[] x = random(r, rows * cols, -4, 4);
        float[] w = random(r, cols, 0.5, 1.5);
        float[] dy = random(r, rows * cols, -1, 1);
        try (Tensor tx = onDevice(x, rows, cols); Tensor tw = onDevice(w, cols); Tensor tdy = onDevice(dy, rows, cols);
             Tensor dx = TrainingOps.rmsNormBackward(tx, tw, tdy, 1e-5f)) {
            double[] exact = RowReference.rmsNormBackward(x, w, dy, cols, 1e-5);
            float[] got = dx.toFloatArray();
            for (int i = 0; i < exact.length; i++) {
                close(exact[i], got[i], 2e-5, "rmsNormBackward [" + i + "]");
            }
            try (Tensor wrong = onDevice(new float[cols], cols)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> TrainingOps.rmsNormBackward(tx, tw, wrong, 1e-5f));
                assertTrue(e.getMessage().startsWith("rmsNormBackward: x F32[5, 515]"), e.getMessage());
            }
        }
    }

    @Test
    void ropeAndItsInverse() {
        SplittableRandom r = new SplittableRandom(9);
        int rows = 12;
        int t = 4;
        int hd = 8;
        float[] x = random(r, rows * hd, -1, 1);
        float[] cos = new float[t * hd];
        float[] sin = new float[t * hd];
        for (int p = 0; p < t; p++) {
            for (int i = 0; i < hd; i++) {
                double a = p * Math.pow(10000, -2.0 * (i % (hd / 2)) / hd);
                cos[p * hd + i] = (float) Math.cos(a);
                sin[p * hd + i] = (float) Math.sin(a);
            }
        }
        // Row r sits at position r % t: [rows / t, t, hd].
        try (Tensor tx = onDevice(x, rows / t, t, hd); Tensor tc = onDevice(cos, t, hd); Tensor ts = onDevice(sin, t, hd);
             Tensor y = TrainingOps.rope(tx, tc, ts, false); Tensor back = TrainingOps.rope(y, tc, ts, true)) {
            float[] g = y.toFloatArray();
            float[] b = back.toFloatArray();
            int half = hd / 2;
            for (int row = 0; row < rows; row++) {
                int p = row % t;
                for (int i = 0; i < hd; i++) {
                    double rotated = i < half ? -x[row * hd + i + half] : x[row * hd + i - half];
                    close(x[row * hd + i] * cos[p * hd + i] + rotated * sin[p * hd + i], g[row * hd + i], 1e-6, "rope");
                    // A rotation's transpose is its inverse: the backward undoes the forward.
                    close(x[row * hd + i], b[row * hd + i], 1e-5, "inverse rope");
                }
            }
        }
    }

    @Test
    void fusedCausalAttentionAndItsBackwardMatchTheF64Oracle() {
        SplittableRandom r = new SplittableRandom(17);
        // batch, query heads, key/value heads, tokens, head dim: grouped and plain heads, a single
        // token, a head dim that is not a multiple of any vector width, tokens past one 256-key tile.
        int[][] shapes = {{2, 4, 2, 7, 13}, {1, 3, 3, 1, 8}, {1, 8, 2, 300, 16}, {2, 2, 1, 33, 64}};
        for (int[] s : shapes) {
            int b = s[0], h = s[1], g = s[2], t = s[3], d = s[4];
            String what = "attention B" + b + " H" + h + " G" + g + " T" + t + " d" + d;
            float[] q = random(r, b * h * t * d, -1, 1);
            float[] k = random(r, b * g * t * d, -1, 1);
            float[] v = random(r, b * g * t * d, -1, 1);
            float[] dout = random(r, b * h * t * d, -1, 1);
            double scale = 1 / Math.sqrt(d);
            AttentionReference.Forward want = AttentionReference.forward(q, k, v, b, h, g, t, d, scale);
            AttentionReference.Backward grads = AttentionReference.backward(q, k, v, dout, b, h, g, t, d, scale);
            try (Tensor tq = onDevice(q, b, h, t, d); Tensor tk = onDevice(k, b, g, t, d); Tensor tv = onDevice(v, b, g, t, d);
                 Tensor tg = onDevice(dout, b, h, t, d);
                 TrainingOps.Attention got = TrainingOps.causalAttention(tq, tk, tv, (float) scale)) {
                float[] out = got.out().toFloatArray();
                float[] lse = got.lse().toFloatArray();
                for (int i = 0; i < out.length; i++) {
                    close(want.out()[i], out[i], 2e-5, what + " out[" + i + "]");
                }
                for (int i = 0; i < lse.length; i++) {
                    close(want.lse()[i], lse[i], 2e-6, what + " lse[" + i + "]");
                }
                Tensor[] d3 = TrainingOps.causalAttentionBackward(tq, tk, tv, got, tg, (float) scale);
                try (Tensor dq = d3[0]; Tensor dk = d3[1]; Tensor dv = d3[2]) {
                    double[][] expected = {grads.dq(), grads.dk(), grads.dv()};
                    Tensor[] actual = {dq, dk, dv};
                    for (int n = 0; n < 3; n++) {
                        float[] a = actual[n].toFloatArray();
                        for (int i = 0; i < a.length; i++) {
                            close(expected[n][i], a[i], 1e-4, what + " d" + "qkv".charAt(n) + "[" + i + "]");
                        }
                    }
                }
            }
        }
    }

    @Test
    void embeddingGatherAndScatterAdd() {
        SplittableRandom r = new SplittableRandom(10);
        int vocab = 6;
        int d = 5;
        float[] table = random(r, vocab * d, -1, 1);
        int[] idx = {3, 0, 3, 5, 3};
        float[] dy = random(r, idx.length * d, -1, 1);
        try (Tensor tt = onDevice(table, vocab, d); Tensor ti = ids(idx); Indices checked = Indices.check("test", ti, vocab, device());
             Tensor out = TrainingOps.embedding(tt, checked);
             Tensor tdy = onDevice(dy, idx.length, d); Tensor grad = Tensor.zeros(DType.F32, Shape.of(vocab, d), device())) {
            TrainingOps.embeddingBackward(tdy, checked, grad);
            float[] g = out.toFloatArray();
            double[] expected = new double[vocab * d];
            for (int i = 0; i < idx.length; i++) {
                for (int j = 0; j < d; j++) {
                    assertEquals(table[idx[i] * d + j], g[i * d + j], 0, "gather");
                    expected[idx[i] * d + j] += dy[i * d + j];
                }
            }
            float[] gg = grad.toFloatArray();
            for (int i = 0; i < expected.length; i++) {
                close(expected[i], gg[i], 1e-6, "scatter-add [" + i + "]");
            }
        }
        // A BF16 table (a frozen one, as quantized models keep it) gathers its values widened exactly to F32.
        try (Tensor host = Tensor.of(DType.BF16, table, vocab, d); Tensor tt = host.to(device()); Tensor ti = ids(idx);
             Indices checked = Indices.check("test", ti, vocab, device()); Tensor out = TrainingOps.embedding(tt, checked)) {
            float[] rounded = host.toFloatArray();
            float[] g = out.toFloatArray();
            assertEquals(DType.F32, out.dtype());
            for (int i = 0; i < idx.length; i++) {
                for (int j = 0; j < d; j++) {
                    assertEquals(rounded[idx[i] * d + j], g[i * d + j], 0, "BF16 gather");
                }
            }
        }
    }

    @Test
    void causalFillCrossEntropyPiecesAndAdamW() {
        SplittableRandom r = new SplittableRandom(11);
        int size = 5;
        try (Tensor s = onDevice(random(r, 2 * size * size, -1, 1), 2, size, size);
             Tensor filled = TrainingOps.fillAboveDiagonal(s, -7f)) {
            float[] before = s.toFloatArray();
            float[] after = filled.toFloatArray();
            for (int i = 0; i < after.length; i++) {
                int row = i / size % size;
                int col = i % size;
                assertEquals(col > row ? -7f : before[i], after[i], 0, "causal fill [" + i + "]");
            }
        }
        int n = 4;
        int v = 7;
        int ignore = -100;
        int[] targets = {2, ignore, 6, 0};
        float[] lsm = new float[n * v];
        for (int i = 0; i < n; i++) {
            float[] row = random(r, v, -3, 3);
            double sum = 0;
            for (float x : row) {
                sum += Math.exp(x);
            }
            for (int j = 0; j < v; j++) {
                lsm[i * v + j] = (float) (row[j] - Math.log(sum));
            }
        }
        try (Tensor tl = onDevice(lsm, n, v); Tensor tt = ids(targets); Indices checked = Indices.check("test", tt, v, ignore, device());
             Tensor picked = TrainingOps.pickTargets(tl, checked); Tensor grad = TrainingOps.crossEntropyBackward(tl, checked, 0.25f)) {
            float[] p = picked.toFloatArray();
            float[] g = grad.toFloatArray();
            for (int i = 0; i < n; i++) {
                assertEquals(targets[i] == ignore ? 0f : lsm[i * v + targets[i]], p[i], 0, "picked [" + i + "]");
                for (int j = 0; j < v; j++) {
                    double expected = targets[i] == ignore ? 0 : (Math.exp(lsm[i * v + j]) - (j == targets[i] ? 1 : 0)) * 0.25;
                    close(expected, g[i * v + j], 1e-6, "dlogits [" + i + ", " + j + "]");
                }
            }
        }
        float[] p0 = random(r, 300, -1, 1);
        float[] g0 = random(r, 300, -1, 1);
        float[] m0 = random(r, 300, -0.1, 0.1);
        float[] v0 = random(r, 300, 0, 0.01);
        AdamWStep step = new AdamWStep(1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, 0.271f, 0.002997f);
        try (Tensor tp = onDevice(p0, 300); Tensor tg = onDevice(g0, 300); Tensor tm = onDevice(m0, 300); Tensor tv = onDevice(v0, 300)) {
            TrainingOps.adamw(tp, tg, tm, tv, step);
            float[] p = tp.toFloatArray();
            float[] m = tm.toFloatArray();
            float[] vv = tv.toFloatArray();
            for (int i = 0; i < 300; i++) {
                double mi = 0.9 * m0[i] + 0.1 * g0[i];
                double vi = 0.999 * v0[i] + 0.001 * g0[i] * g0[i];
                double pi = p0[i] - 1e-2 * 0.01 * p0[i] - 1e-2 * (mi / 0.271) / (Math.sqrt(vi / 0.002997) + 1e-8);
                close(mi, m[i], 1e-6, "adamw m");
                close(vi, vv[i], 1e-6, "adamw v");
                close(pi, p[i], 1e-6, "adamw p");
            }
        }
    }

    @Test
    void backendsRefuseTensorsOfAnotherDevice() {
        // A backend computes through raw addresses: given a tensor of another device it must refuse
        // it, since on a GPU the CPU reading device memory (or cuBLAS reading host memory) crashes.
        // The host emulator's device memory is host memory, so only these checks show the mistake there.
        assumeFalse(device().equals(Device.CPU), "the CPU has no other device here");
        try (Tensor onDev = Tensor.zeros(DType.F32, Shape.of(4, 4), device()); Tensor onHost = Tensor.zeros(DType.F32, 4, 4);
             Tensor out = Tensor.empty(DType.F32, 4, 4); Tensor outDev = Tensor.empty(DType.F32, Shape.of(4, 4), device())) {
            try (Backend cpu = CpuKernels.newBackend(1)) {
                assertThrows(IllegalArgumentException.class, () -> cpu.copy(onDev, out));
                assertThrows(IllegalArgumentException.class, () -> cpu.matmul(onDev, onHost, out, false));
                assertThrows(IllegalArgumentException.class, () -> cpu.unary(UnaryOp.EXP, onDev, out));
            }
            assertThrows(IllegalArgumentException.class, () -> backend().matmul(onHost, onDev, outDev, false));
            assertThrows(IllegalArgumentException.class, () -> backend().matmul(onDev, onDev, out, false));
            // The public entries refuse the mix before any backend sees it.
            assertThrows(IllegalArgumentException.class, () -> Ops.matmul(onHost, onDev));
        }
    }

    @Test
    void constantsCrossToADeviceOnce() {
        int[] made = new int[1];
        java.util.List<Object> key = java.util.List.of("conformance", device().toString(), 2.5f);
        for (int call = 0; call < 3; call++) {
            try (Tensor c = DeviceConstants.on(device(), key, () -> {
                made[0]++;
                return Tensor.of(new float[]{2.5f, -1f}, 2);
            })) {
                assertEquals(device(), c.device());
                assertArrayEquals(new float[]{2.5f, -1f}, c.toFloatArray());
            }
        }
        // The CPU uses the host tensor as made; a device keeps its first copy.
        assertEquals(device().equals(Device.CPU) ? 3 : 1, made[0]);
    }

    @Test
    void freeMemoryIsReportedAndAllocationsUseIt() {
        long before = device().memoryAvailable();
        assertTrue(before > 0, "available " + before);
        if (!device().equals(Device.CPU)) {
            // A size no earlier test pooled, so the allocator asks the device for a new block.
            long bytes = 13L << 20;
            try (Tensor x = Tensor.empty(DType.F32, Shape.of((int) (bytes / 4)), device())) {
                long after = device().memoryAvailable();
                assertTrue(before - after >= bytes, before + " -> " + after + " after " + x.describe());
            }
        }
    }

    @Test
    void deviceMemoryIsCountedAndReturned() {
        long before = device().allocator().stats().live();
        try (Tensor x = Tensor.empty(DType.F32, Shape.of(1 << 16), device())) {
            assertEquals(before + (4L << 16), device().allocator().stats().live());
            assertEquals(device(), x.device());
        }
        assertEquals(before, device().allocator().stats().live());
    }
}
