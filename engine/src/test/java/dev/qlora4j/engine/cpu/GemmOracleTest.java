package dev.qlora4j.engine.cpu;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.testkit.CastReference;
import dev.qlora4j.testkit.GemmReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** GEMM against the f64 triple loop, over awkward shapes, every transpose combination and input dtype. */
@Tag("kernels")
class GemmOracleTest {
    private static final int[] SIZES = {1, 3, 7, 15, 16, 17, 63, 64, 65, 127};
    private static final CpuBackend THREE_THREADS = new CpuBackend(3);

    @AfterAll
    static void closePool() {
        THREE_THREADS.close();
    }

    /** A random [rows, cols] matrix, stored transposed ([cols, rows], then viewed) when asked. */
    static Tensor matrix(SplittableRandom r, DType t, int rows, int cols, boolean storedTransposed) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        if (!storedTransposed) {
            return Tensor.of(t, v, rows, cols);
        }
        try (Tensor stored = Tensor.of(t, v, cols, rows)) {
            return stored.transpose(0, 1);
        }
    }

    static void assertMatches(Tensor c, Tensor a, Tensor b, String what) {
        GemmReference.Result ref = GemmReference.matmul(a.toFloatArray(), a.shape().dims(), b.toFloatArray(), b.shape().dims());
        float[] got = c.toFloatArray();
        int k = a.dim(-1);
        for (int i = 0; i < got.length; i++) {
            // Any f32 summation order stays within (k+2)·u·Σ|a·b| of the exact sum (u = 2^-24).
            double tol = (k + 2) * 0x1p-24 * ref.magnitudes()[i] + 1e-30;
            if (!(Math.abs(got[i] - ref.values()[i]) <= tol)) {
                fail(what + ": element " + i + " is " + got[i] + ", expected " + ref.values()[i] + " ± " + tol);
            }
        }
    }

    @Test
    void everyShapeTransposeAndDtype() {
        SplittableRandom r = new SplittableRandom(1);
        int[] ks = {1, 17, 64, 127, 300};
        for (DType t : new DType[]{DType.F32, DType.BF16}) {
            for (int m : SIZES) {
                for (int n : SIZES) {
                    for (int k : ks) {
                        for (int tr = 0; tr < 4; tr++) {
                            try (Tensor a = matrix(r, t, m, k, (tr & 1) != 0);
                                 Tensor b = matrix(r, t, k, n, (tr & 2) != 0);
                                 Tensor c = Tensor.empty(DType.F32, m, n)) {
                                THREE_THREADS.matmul(a, b, c, false);
                                assertMatches(c, a, b, t + " m=" + m + " n=" + n + " k=" + k + " transA=" + ((tr & 1) != 0)
                                        + " transB=" + ((tr & 2) != 0));
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void shapesThatCrossEveryCacheBlock() {
        // Beyond KC (k), MC (m) and NC (n) blocks, with ragged remainders, on 1, 2 and 3 threads.
        SplittableRandom r = new SplittableRandom(2);
        int[][] shapes = {{1000, 65, 300}, {257, 1000, 513}, {7, 3100, 33}, {2, 5000, 3}};
        for (int threads = 1; threads <= 3; threads++) {
            try (CpuBackend be = new CpuBackend(threads)) {
                for (int[] s : shapes) {
                    for (int tr = 0; tr < 4; tr++) {
                        try (Tensor a = matrix(r, DType.F32, s[0], s[2], (tr & 1) != 0);
                             Tensor b = matrix(r, DType.BF16, s[2], s[1], (tr & 2) != 0);
                             Tensor c = Tensor.empty(DType.F32, s[0], s[1])) {
                            be.matmul(a, b, c, false);
                            assertMatches(c, a, b, "threads=" + threads + " shape=" + java.util.Arrays.toString(s) + " tr=" + tr);
                        }
                    }
                }
            }
        }
    }

    @Test
    void f16InputsAndMixedDtypes() {
        SplittableRandom r = new SplittableRandom(3);
        for (DType ta : DType.values()) {
            if (!ta.isFloatingPoint()) {
                continue;
            }
            for (DType tb : new DType[]{DType.F16, DType.F32}) {
                try (Tensor a = matrix(r, ta, 33, 70, false); Tensor b = matrix(r, tb, 70, 19, true);
                     Tensor c = Ops.matmul(a, b)) {
                    assertMatches(c, a, b, ta + "·" + tb);
                }
            }
        }
    }

    @Test
    void accumulateAddsToTheOutput() {
        SplittableRandom r = new SplittableRandom(4);
        try (Tensor a = matrix(r, DType.F32, 17, 300, false); Tensor b = matrix(r, DType.F32, 300, 40, false);
             Tensor c = Tensor.empty(DType.F32, 17, 40)) {
            float[] base = new float[17 * 40];
            for (int i = 0; i < base.length; i++) {
                base[i] = i * 0.25f;
                c.setFlat(i, base[i]);
            }
            THREE_THREADS.matmul(a, b, c, true);
            GemmReference.Result ref = GemmReference.matmul(a.toFloatArray(), a.shape().dims(), b.toFloatArray(), b.shape().dims());
            for (int i = 0; i < base.length; i++) {
                double tol = 302 * 0x1p-24 * (ref.magnitudes()[i] + Math.abs(base[i]));
                assertEquals(base[i] + ref.values()[i], c.getFlat(i), tol, "element " + i);
            }
        }
    }

    @Test
    void batchedProducts() {
        SplittableRandom r = new SplittableRandom(5);
        // 3-D · 3-D, 4-D · 4-D, 3-D · shared 2-D weight (folded into one GEMM), and a transposed batch view.
        try (Tensor a3 = random(r, 4, 17, 33); Tensor b3 = random(r, 4, 33, 9); Tensor c3 = Ops.matmul(a3, b3)) {
            assertMatches(c3, a3, b3, "3-D");
        }
        try (Tensor a4 = random(r, 2, 3, 7, 65); Tensor b4 = random(r, 2, 3, 65, 16); Tensor c4 = Ops.matmul(a4, b4)) {
            assertMatches(c4, a4, b4, "4-D");
        }
        try (Tensor x = random(r, 5, 13, 64); Tensor w = random(r, 31, 64); Tensor wt = w.transpose(0, 1);
             Tensor y = Ops.matmul(x, wt)) {
            assertEquals(java.util.List.of(5, 13, 31), java.util.Arrays.stream(y.shape().dims()).boxed().toList());
            assertMatches(y, x, wt, "x·Wᵀ with a shared weight");
        }
        try (Tensor s = random(r, 6, 3, 20); Tensor st = s.transpose(0, 1); Tensor b = random(r, 3, 20, 8);
             Tensor c = Ops.matmul(st, b)) {
            assertMatches(c, st, b, "batch axis taken from a transposed view");
        }
    }

    @Test
    void bf16OutputIsTheRoundedF32Product() {
        SplittableRandom r = new SplittableRandom(6);
        try (Tensor a = random(r, 9, 40); Tensor b = random(r, 40, 11); Tensor f = Ops.matmul(a, b);
             Tensor h = Ops.matmul(a, b, DType.BF16)) {
            assertEquals(DType.BF16, h.dtype());
            for (int i = 0; i < f.numel(); i++) {
                assertEquals(CastReference.decodeBf16(CastReference.roundToBf16(f.getFlat(i))), h.getFlat(i), 0.0);
            }
        }
    }

    @Test
    void emptyDimensions() {
        try (Tensor a = Tensor.zeros(DType.F32, 3, 0); Tensor b = Tensor.zeros(DType.F32, 0, 4); Tensor c = Ops.matmul(a, b)) {
            for (int i = 0; i < 12; i++) {
                assertEquals(0f, c.getFlat(i));
            }
        }
        try (Tensor a = Tensor.zeros(DType.F32, 0, 5); Tensor b = Tensor.zeros(DType.F32, 5, 4); Tensor c = Ops.matmul(a, b)) {
            assertEquals(0, c.numel());
        }
    }

    @Test
    void badShapesAndDtypesAreNamed() {
        try (Tensor a = Tensor.zeros(DType.F32, 3, 4); Tensor b = Tensor.zeros(DType.F32, 5, 6);
             Tensor i = Tensor.zeros(DType.I32, 4, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.matmul(a, b));
            assertTrue(e.getMessage().contains("matmul") && e.getMessage().contains("[3, 4]") && e.getMessage().contains("[5, 6]"),
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Ops.matmul(a, i));
            assertTrue(e.getMessage().contains("I32"), e.getMessage());
        }
    }

    static Tensor random(SplittableRandom r, int... dims) {
        int n = 1;
        for (int d : dims) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return Tensor.of(v, dims);
    }
}
