package dev.qlora4j.nf4;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.testkit.GemmReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Fused products with quantized weights against dequantize-then-multiply on the f64 oracle. */
@Tag("kernels")
class QuantizedMatmulTest {

    /** The weight's values by the scalar definition, as an F32 tensor. */
    private static Tensor reference(QuantizedWeight w) {
        float[] v;
        if (w instanceof FourBitWeight f) {
            v = Dequantize.fourBitScalar(f);
        } else {
            Int8Weight q = (Int8Weight) w;
            int rows = q.cb().dim(0);
            int cols = q.cb().dim(1);
            v = new float[rows * cols];
            for (int i = 0; i < v.length; i++) {
                v[i] = q.cb().getFlat(i) * q.scb().getFlat(i / cols) * Int8Weight.INV_127;
            }
        }
        return Tensor.of(v, w.shape().dims());
    }

    private static void check(Tensor got, Tensor a, Tensor b, String what) {
        GemmReference.Result ref = GemmReference.matmul(a.toFloatArray(), a.shape().dims(), b.toFloatArray(), b.shape().dims());
        int k = a.dim(-1);
        for (int i = 0; i < ref.values().length; i++) {
            double tol = (k + 2) * 0x1p-24 * ref.magnitudes()[i] + 1e-30;
            if (!(Math.abs(got.getFlat(i) - ref.values()[i]) <= tol)) {
                fail(what + ": element " + i + " is " + got.getFlat(i) + ", expected " + ref.values()[i] + " ± " + tol);
            }
        }
    }

    @Test
    void forwardAndInputGradientMatchTheDequantizedProduct() {
        SplittableRandom r = new SplittableRandom(40);
        int[][] weights = {{96, 64}, {200, 130}, {33, 1100}, {70, 2}, {40, 512}};
        int[] tokens = {1, 3, 17, 100};
        for (int[] ws : weights) {
            for (int kind = 0; kind < 4; kind++) {
                try (Tensor w = RandomTensors.gaussian(r, DType.BF16, 0.05, ws);
                     QuantizedWeight q = switch (kind) {
                         case 0 -> FourBitWeight.quantize(w, QuantType.NF4, 64, true);
                         case 1 -> FourBitWeight.quantize(w, QuantType.FP4, 32, false);
                         case 2 -> FourBitWeight.quantize(w, QuantType.NF4, 128, false);
                         default -> Int8Weight.quantize(w);
                     };
                     Tensor wd = reference(q); Tensor wt = wd.transpose(0, 1)) {
                    for (int n : tokens) {
                        try (Tensor x = RandomTensors.gaussian(r, DType.F32, 1, n, ws[1]); Tensor y = QuantizedMatmul.linear(x, q)) {
                            check(y, x, wt, q + " forward, " + n + " tokens");
                        }
                        try (Tensor dy = RandomTensors.gaussian(r, DType.BF16, 1, n, ws[0]); Tensor dx = QuantizedMatmul.linearInputGradient(dy, q)) {
                            check(dx, dy, wd, q + " input gradient, " + n + " tokens");
                        }
                    }
                }
            }
        }
    }

    @Test
    void batchedInputsKeepTheirLeadingAxes() {
        SplittableRandom r = new SplittableRandom(41);
        try (Tensor w = RandomTensors.gaussian(r, DType.F32, 0.05, 48, 64); FourBitWeight q = FourBitWeight.quantize(w, QuantType.NF4, 64, true);
             Tensor x = RandomTensors.gaussian(r, DType.F32, 1, 2, 5, 64); Tensor y = QuantizedMatmul.linear(x, q)) {
            assertArrayEquals(new int[]{2, 5, 48}, y.shape().dims());
            try (Tensor x2 = x.reshape(10, 64); Tensor y2 = QuantizedMatmul.linear(x2, q)) {
                assertArrayEquals(y2.toFloatArray(), y.toFloatArray());
            }
        }
    }

    @Test
    void mismatchedShapesAreNamed() {
        try (Tensor w = Tensor.zeros(DType.F32, 8, 64); FourBitWeight q = FourBitWeight.quantize(w, QuantType.NF4, 64, false);
             Tensor x = Tensor.zeros(DType.F32, 3, 63)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QuantizedMatmul.linear(x, q));
            assertTrue(e.getMessage().contains("linear") && e.getMessage().contains("[3, 63]") && e.getMessage().contains("64"),
                    e.getMessage());
        }
    }
}
