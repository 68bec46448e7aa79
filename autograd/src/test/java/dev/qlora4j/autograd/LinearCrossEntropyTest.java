package dev.qlora4j.autograd;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.testkit.RandomArrays;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The fused head-and-loss op against the unfused composition {@code crossEntropy(h·Wᵀ)}: the loss
 * and the gradients of the hidden states and of a trained head agree to rounding for any chunk
 * size, exactly with one chunk, and ignored targets contribute nothing.
 */
class LinearCrossEntropyTest {
    private static final int N = 13;
    private static final int D = 9;
    private static final int V = 21;

    private static Tensor random(SplittableRandom r, int... dims) {
        return Tensor.of(RandomArrays.uniform(r, RandomArrays.count(dims), -1, 1), dims);
    }

    private static Tensor targets(SplittableRandom r) {
        float[] t = new float[N];
        for (int i = 0; i < N; i++) {
            t[i] = i % 5 == 4 ? -100 : r.nextInt(V);
        }
        return Tensor.of(DType.I32, t, N);
    }

    /** loss, dh, dW of the fused op (chunk rows given) or, with chunk 0, of the composition. */
    private static float[][] run(Tensor h, Tensor w, Tensor targets, int chunk) {
        Var vh = Var.leaf(h, true);
        Var vw = Var.leaf(w, true);
        Var loss = chunk == 0
                ? F.crossEntropy(F.matmul(vh, F.transpose(vw, 0, 1)), targets, -100)
                : F.linearCrossEntropy(vh, FrozenWeight.of(w), vw, targets, -100, chunk);
        Tape.backward(loss);
        return new float[][]{loss.value().toFloatArray(), vh.grad().toFloatArray(), vw.grad().toFloatArray()};
    }

    @Test
    void chunkedLossAndGradientsEqualTheComposition() {
        SplittableRandom r = new SplittableRandom(3);
        try (Scope s = Scope.open()) {
            Tensor h = random(r, N, D);
            Tensor w = random(r, V, D);
            Tensor t = targets(r);
            float[][] plain = run(h, w, t, 0);
            for (int chunk : new int[]{1, 4, 5, N, 100}) {
                float[][] fused = run(h, w, t, chunk);
                String[] names = {"loss", "dh", "dW"};
                for (int k = 0; k < 3; k++) {
                    if (chunk >= N) {
                        assertArrayEquals(plain[k], fused[k], names[k] + " with one chunk");
                    }
                    assertClose(plain[k], fused[k], names[k] + " in chunks of " + chunk);
                }
            }
        }
    }

    @Test
    void aFrozenHeadPassesTheGradientToTheHiddenStatesOnly() {
        SplittableRandom r = new SplittableRandom(4);
        try (Scope s = Scope.open()) {
            Tensor h = random(r, N, D);
            Tensor w = random(r, V, D);
            Tensor t = targets(r);
            float[][] plain = run(h, w, t, 0);
            Var vh = Var.leaf(h, true);
            Var loss = F.linearCrossEntropy(vh, FrozenWeight.of(w), null, t, -100, 4);
            Tape.backward(loss);
            assertClose(plain[1], vh.grad().toFloatArray(), "dh");
        }
    }

    /** Equal to rounding: within 1e-6 of each expected value, relative above 1. */
    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-6 * Math.max(1, Math.abs(expected[i])), what + "[" + i + "]");
        }
    }
}
