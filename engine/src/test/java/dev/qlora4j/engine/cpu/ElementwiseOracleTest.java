package dev.qlora4j.engine.cpu;

import dev.qlora4j.engine.BinaryOp;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.ReduceOp;
import dev.qlora4j.engine.Shape;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.UnaryOp;
import dev.qlora4j.engine.spi.VectorWidth;
import dev.qlora4j.testkit.ElementwiseReference;
import dev.qlora4j.testkit.RowReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Elementwise, reduction and row kernels against their f64 definitions. */
@Tag("kernels")
class ElementwiseOracleTest {
    private static final int[] LENGTHS = {1, 3, 7, 15, 16, 17, 63, 64, 65, 127, 1000, 70_001};

    private static Tensor random(SplittableRandom r, double lo, double hi, int... dims) {
        long n = Shape.of(dims).numel();
        float[] v = new float[(int) n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (lo + r.nextDouble() * (hi - lo));
        }
        return Tensor.of(v, dims);
    }

    @Test
    void unaryOps() {
        SplittableRandom r = new SplittableRandom(10);
        for (UnaryOp op : UnaryOp.values()) {
            boolean positive = op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.RSQRT;
            for (int n : LENGTHS) {
                try (Tensor x = random(r, positive ? 1e-3 : -9, 9, n); Tensor y = Ops.unary(op, x)) {
                    for (int i = 0; i < n; i++) {
                        double ref = ElementwiseReference.unary(op.name(), x.getFlat(i));
                        // A few ulps: the vector math library's exp/log/tanh are within about one.
                        double tol = 4e-7 * Math.abs(ref) + 1e-7;
                        if (!(Math.abs(y.getFlat(i) - ref) <= tol)) {
                            fail(op + " of " + x.getFlat(i) + " (n=" + n + ", i=" + i + ") = " + y.getFlat(i) + ", expected " + ref);
                        }
                    }
                }
            }
        }
    }

    @Test
    void unaryOnATransposedView() {
        SplittableRandom r = new SplittableRandom(11);
        try (Tensor x = random(r, -3, 3, 17, 9); Tensor xt = x.transpose(0, 1); Tensor y = Ops.unary(UnaryOp.SQUARE, xt)) {
            for (int i = 0; i < 9; i++) {
                for (int j = 0; j < 17; j++) {
                    float v = x.getFloat(j, i);
                    assertEquals(v * v, y.getFloat(i, j));
                }
            }
        }
    }

    @Test
    void binaryOpsWithBroadcasting() {
        SplittableRandom r = new SplittableRandom(12);
        int[][][] pairs = {
                {{65}, {65}}, {{3, 7}, {7}}, {{3, 1}, {1, 7}}, {{2, 3, 17}, {3, 1}}, {{65}, {1}}, {{}, {4, 5}},
                {{5, 1, 3}, {1, 4, 1}}, {{127, 64}, {127, 64}}, {{1, 1000}, {7, 1}}, {{300, 257}, {257}},
                {{4, 1, 65}, {4, 3, 65}}, {{2, 0, 3}, {3}},
        };
        for (BinaryOp op : BinaryOp.values()) {
            for (int[][] p : pairs) {
                try (Tensor a = random(r, -4, 4, p[0]); Tensor b = random(r, 0.5, 4, p[1])) {
                    checkBinary(op, a, b);
                }
            }
        }
        // Non-contiguous operands.
        try (Tensor a = random(r, -4, 4, 9, 33); Tensor at = a.transpose(0, 1); Tensor b = random(r, 1, 2, 33, 9)) {
            checkBinary(BinaryOp.MUL, at, b);
        }
    }

    /** Result element by element from the broadcasting rule: trailing axes align, size 1 stretches. */
    private static void checkBinary(BinaryOp op, Tensor a, Tensor b) {
        try (Tensor c = Ops.binary(op, a, b)) {
            int[] dims = c.shape().dims();
            int[] idx = new int[dims.length];
            for (long i = 0; i < c.numel(); i++) {
                long rem = i;
                for (int d = dims.length - 1; d >= 0; d--) {
                    idx[d] = (int) (rem % dims[d]);
                    rem /= dims[d];
                }
                float x = a.getFloat(project(idx, a.shape()));
                float y = b.getFloat(project(idx, b.shape()));
                // f32 inputs: the f64 result rounded once to f32 is the correctly rounded f32 result.
                assertEquals((float) ElementwiseReference.binary(op.name(), x, y), c.getFlat(i), op + " " + a.describe() + " " + b.describe()
                        + " at " + Arrays.toString(idx));
            }
        }
    }

    private static int[] project(int[] outIndex, Shape s) {
        int[] i = new int[s.rank()];
        int shift = outIndex.length - s.rank();
        for (int d = 0; d < s.rank(); d++) {
            i[d] = s.dim(d) == 1 ? 0 : outIndex[d + shift];
        }
        return i;
    }

    @Test
    void broadcastMismatchIsNamed() {
        try (Tensor a = Tensor.zeros(DType.F32, 3, 4); Tensor b = Tensor.zeros(DType.F32, 5)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.add(a, b));
            assertTrue(e.getMessage().contains("add") && e.getMessage().contains("[3, 4]") && e.getMessage().contains("[5]"),
                    e.getMessage());
        }
        try (Tensor a = Tensor.zeros(DType.BF16, 3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.unary(UnaryOp.EXP, a));
            assertTrue(e.getMessage().contains("BF16") && e.getMessage().contains("F32"), e.getMessage());
        }
    }

    @Test
    void reductionsAlongEveryAxis() {
        SplittableRandom r = new SplittableRandom(13);
        int[][] shapes = {{1}, {17}, {1000}, {3, 65}, {65, 3}, {7, 16, 17}, {2, 127, 64}, {300, 300}};
        for (ReduceOp op : ReduceOp.values()) {
            for (int[] s : shapes) {
                for (int axis = 0; axis < s.length; axis++) {
                    try (Tensor x = random(r, -5, 5, s); Tensor y = Ops.reduce(op, x, axis, true)) {
                        int outer = 1;
                        int inner = 1;
                        for (int d = 0; d < axis; d++) {
                            outer *= s[d];
                        }
                        for (int d = axis + 1; d < s.length; d++) {
                            inner *= s[d];
                        }
                        float[] xv = x.toFloatArray();
                        double[] ref = RowReference.reduce(op.name(), xv, outer, s[axis], inner);
                        double mag = 0;
                        for (float v : xv) {
                            mag = Math.max(mag, Math.abs(v));
                        }
                        double tol = s[axis] * mag * 0x1p-23;
                        for (int i = 0; i < ref.length; i++) {
                            assertEquals(ref[i], y.getFlat(i), tol, op + " of " + Arrays.toString(s) + " along " + axis);
                        }
                    }
                }
            }
        }
        try (Tensor x = random(r, -1, 1, 4, 6); Tensor y = Ops.sum(x, -1)) {
            assertEquals(Shape.of(4), y.shape());
        }
    }

    @Test
    void softmaxAndLogSoftmaxRows() {
        SplittableRandom r = new SplittableRandom(14);
        for (int n : LENGTHS) {
            if (n > 1000) {
                continue;
            }
            // Large logits: the kernels must subtract the row maximum to stay finite.
            try (Tensor x = random(r, -60, 90, 3, n); Tensor p = Ops.softmax(x); Tensor lp = Ops.logSoftmax(x)) {
                double[] ps = RowReference.softmax(x.toFloatArray(), n, false);
                double[] lps = RowReference.softmax(x.toFloatArray(), n, true);
                for (int i = 0; i < ps.length; i++) {
                    assertEquals(ps[i], p.getFlat(i), 2e-6 * ps[i] + 1e-12, "softmax n=" + n + " i=" + i);
                    assertEquals(lps[i], lp.getFlat(i), 1e-5 * (1 + Math.abs(lps[i])), "logSoftmax n=" + n + " i=" + i);
                }
            }
        }
    }

    @Test
    void rmsNormRows() {
        SplittableRandom r = new SplittableRandom(15);
        for (int n : LENGTHS) {
            if (n > 1000) {
                continue;
            }
            try (Tensor x = random(r, -3, 3, 5, n); Tensor w = random(r, 0.5, 1.5, n); Tensor y = Ops.rmsNorm(x, w, 1e-6f)) {
                double[] ref = RowReference.rmsNorm(x.toFloatArray(), w.toFloatArray(), n, 1e-6);
                for (int i = 0; i < ref.length; i++) {
                    assertEquals(ref[i], y.getFlat(i), 2e-6 * Math.abs(ref[i]) + 1e-7, "rmsNorm n=" + n + " i=" + i);
                }
            }
        }
        try (Tensor x = Tensor.zeros(DType.F32, 2, 8); Tensor w = Tensor.zeros(DType.F32, 7)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.rmsNorm(x, w, 1e-6f));
            assertTrue(e.getMessage().contains("rmsNorm") && e.getMessage().contains("[8]"), e.getMessage());
        }
    }

    @Test
    void theVectorWidthIsTheForcedOne() {
        String forced = System.getProperty(VectorWidth.PROPERTY);
        if (forced != null) {
            assertEquals(Integer.parseInt(forced), VectorWidth.BITS);
        }
        assertEquals(VectorWidth.BITS, VectorWidth.FLOATS.vectorBitSize());
        assertEquals(VectorWidth.FLOATS.length(), VectorWidth.HALF_SHORTS.length());
    }
}
