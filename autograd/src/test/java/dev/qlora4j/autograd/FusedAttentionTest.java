package dev.qlora4j.autograd;

import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.testkit.RandomArrays;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The fused attention op gives the output and gradients of attention composed from plain ops — key
 * and value heads repeated per query group, q·kᵀ scaled, an additive −∞ causal mask, softmax, ·v —
 * to rounding.
 */
class FusedAttentionTest {
    private static Tensor random(SplittableRandom r, int... dims) {
        return Tensor.of(RandomArrays.uniform(r, RandomArrays.count(dims), -1, 1), dims);
    }

    /** softmax(q·kᵀ/√d + mask)·v from plain ops, with Hugging Face's repeat_kv order of heads. */
    private static Var composed(Var q, Var k, Var v) {
        int h = q.value().dim(1);
        int g = k.value().dim(1);
        int t = q.value().dim(2);
        int d = q.value().dim(3);
        float[] mask = new float[t * t];
        for (int i = 0; i < t; i++) {
            for (int j = i + 1; j < t; j++) {
                mask[i * t + j] = Float.NEGATIVE_INFINITY;
            }
        }
        Var scores = F.scale(F.matmul(q, F.transpose(repeat(k, h / g), -1, -2)), (float) (1 / Math.sqrt(d)));
        Var masked = F.add(scores, Var.leaf(Tensor.of(mask, t, t), false));
        return F.matmul(F.softmax(masked), repeat(v, h / g));
    }

    private static Var repeat(Var x, int groups) {
        List<Var> heads = new ArrayList<>();
        for (int j = 0; j < x.value().dim(1); j++) {
            for (int c = 0; c < groups; c++) {
                heads.add(F.slice(x, 1, j, j + 1));
            }
        }
        return F.concat(heads, 1);
    }

    @Test
    void outputAndGradientsEqualTheComposedAttention() {
        SplittableRandom r = new SplittableRandom(5);
        int b = 2, h = 6, g = 2, t = 11, d = 12;
        try (Scope s = Scope.open()) {
            Tensor q = random(r, b, h, t, d);
            Tensor k = random(r, b, g, t, d);
            Tensor v = random(r, b, g, t, d);
            Tensor w = random(r, b, h, t, d);
            float[][] fused = run(q, k, v, w, true);
            float[][] plain = run(q, k, v, w, false);
            String[] names = {"out", "dq", "dk", "dv"};
            for (int n = 0; n < 4; n++) {
                for (int i = 0; i < plain[n].length; i++) {
                    assertEquals(plain[n][i], fused[n][i], 2e-6 * Math.max(1, Math.abs(plain[n][i])), names[n] + "[" + i + "]");
                }
            }
        }
    }

    /** out, then dq, dk, dv of the loss Σ out·w. */
    private static float[][] run(Tensor q, Tensor k, Tensor v, Tensor w, boolean fusedOp) {
        Var vq = Var.leaf(q, true);
        Var vk = Var.leaf(k, true);
        Var vv = Var.leaf(v, true);
        Var out = fusedOp ? F.causalAttention(vq, vk, vv) : composed(vq, vk, vv);
        Tape.backward(F.sum(F.mul(out, Var.leaf(w, false))));
        return new float[][]{out.value().toFloatArray(), vq.grad().toFloatArray(), vk.grad().toFloatArray(),
                vv.grad().toFloatArray()};
    }
}
