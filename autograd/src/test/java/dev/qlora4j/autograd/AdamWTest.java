package dev.qlora4j.autograd;

import dev.qlora4j.engine.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** AdamW against the update written out in f64, clipping, the schedule, and the NaN guard. */
class AdamWTest {

    @Test
    void threeStepsMatchTheF64Definition() {
        float[] p0 = {0.5f, -1.25f, 2f};
        float[][] grads = {{0.1f, -0.2f, 0.3f}, {-0.05f, 0.4f, 0.0f}, {0.2f, 0.1f, -0.3f}};
        double b1 = 0.9;
        double b2 = 0.999;
        double eps = 1e-8;
        double wd = 0.01;
        double lr = 1e-2;
        double[] p = {0.5, -1.25, 2};
        double[] m = new double[3];
        double[] v = new double[3];
        try (Tensor value = Tensor.of(p0, 3); AdamW opt = new AdamW(0.9f, 0.999f, 1e-8f, 0.01f)) {
            Var param = Var.leaf(value, true);
            for (int t = 1; t <= 3; t++) {
                param.accumulate(Tensor.of(grads[t - 1], 3));
                opt.step(List.of(param), (float) lr);
                param.zeroGrad();
                for (int i = 0; i < 3; i++) {
                    double g = grads[t - 1][i];
                    m[i] = b1 * m[i] + (1 - b1) * g;
                    v[i] = b2 * v[i] + (1 - b2) * g * g;
                    p[i] -= lr * wd * p[i];
                    p[i] -= lr * (m[i] / (1 - Math.pow(b1, t))) / (Math.sqrt(v[i] / (1 - Math.pow(b2, t))) + eps);
                }
                for (int i = 0; i < 3; i++) {
                    assertEquals(p[i], value.getFlat(i), 1e-6, "step " + t + " element " + i);
                }
            }
            assertEquals(3, opt.steps());
        }
    }

    @Test
    void aNonFiniteGradientStopsTheStepAndLeavesTheWeights() {
        try (Tensor value = Tensor.of(new float[]{1, 2}, 2); AdamW opt = AdamW.withDefaults()) {
            Var param = Var.leaf(value, true);
            param.accumulate(Tensor.of(new float[]{Float.NaN, 1}, 2));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> opt.step(List.of(param), 0.1f));
            assertTrue(e.getMessage().contains("not finite"), e.getMessage());
            assertArrayEquals(new float[]{1, 2}, value.toFloatArray());
            assertEquals(0, opt.steps());
            param.zeroGrad();
        }
    }

    @Test
    void hugeFiniteGradientsAreClippedNotCalledInfinite() {
        // 3e19² overflows f32: a norm summed from plain f32 squares is infinite, which made clipping
        // scale every gradient by 0 and AdamW refuse a finite step.
        try (Tensor value = Tensor.of(new float[]{1, 2}, 2); AdamW opt = AdamW.withDefaults()) {
            Var param = Var.leaf(value, true);
            param.accumulate(Tensor.of(new float[]{3e19f, -4e19f}, 2));
            assertEquals(5e19, Training.clipGradNorm(List.of(param), 1.0), 5e19 * 1e-6);
            assertEquals(0.6, param.grad().getFlat(0), 1e-5);
            assertEquals(-0.8, param.grad().getFlat(1), 1e-5);
            param.zeroGrad();
            param.accumulate(Tensor.of(new float[]{3e19f, -4e19f}, 2));
            opt.step(List.of(param), 0.1f);
            assertEquals(1, opt.steps());
            param.zeroGrad();
            param.accumulate(Tensor.of(new float[]{Float.POSITIVE_INFINITY, 1}, 2));
            assertThrows(IllegalStateException.class, () -> opt.step(List.of(param), 0.1f));
            assertEquals(Double.POSITIVE_INFINITY, Training.norm(Training.gradients(List.of(param))));
            param.zeroGrad();
        }
    }

    @Test
    void clippingAndTheWarmupCosineSchedule() {
        try (Tensor a = Tensor.of(new float[]{3, 0}, 2); Tensor b = Tensor.of(new float[]{0, 4}, 2)) {
            Var pa = Var.leaf(a, true);
            Var pb = Var.leaf(b, true);
            pa.accumulate(Tensor.of(new float[]{3, 0}, 2));
            pb.accumulate(Tensor.of(new float[]{0, 4}, 2));
            assertEquals(5.0, Training.clipGradNorm(List.of(pa, pb), 1.0), 1e-9);
            assertEquals(0.6, pa.grad().getFlat(0), 1e-5);
            assertEquals(0.8, pb.grad().getFlat(1), 1e-5);
            pa.zeroGrad();
            pb.zeroGrad();
        }
        assertEquals(0.1f, Training.warmupCosine(1f, 10, 110, 0), 1e-7);
        assertEquals(1f, Training.warmupCosine(1f, 10, 110, 10), 1e-7);
        assertEquals(0.5f, Training.warmupCosine(1f, 10, 110, 60), 1e-6);
        assertEquals(0f, Training.warmupCosine(1f, 10, 110, 110), 1e-7);
    }
}
