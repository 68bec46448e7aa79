package dev.qlora4j.autograd.llama;

import dev.qlora4j.autograd.AdamW;
import dev.qlora4j.autograd.F;
import dev.qlora4j.autograd.Tape;
import dev.qlora4j.autograd.Training;
import dev.qlora4j.autograd.Var;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The decoder end to end: adapter gradients by finite differences, and a small task learned on NF4. */
class LlamaModelTest {

    @Test
    void loraGradientsOfTheWholeModelMatchFiniteDifferences() {
        LlamaConfig c = new LlamaConfig(8, 2, 2, 1, 12, 11, 10000.0, 1e-5f, false);
        try (LlamaModel m = LlamaModel.random(c, 1, BaseFormat.F32); Tensor ids = Tensor.of(DType.I32, new float[]{1, 5, 3, 7, 2, 9}, 2, 3)) {
            m.attachLora(Set.of("q_proj", "v_proj"), 2, 4, false, 3);
            // B starts at zero; give every adapter weight a value so that no gradient is trivially zero.
            List<Var> leaves = m.trainableParameters();
            for (int k = 0; k < leaves.size(); k++) {
                Tensor t = leaves.get(k).value();
                for (int i = 0; i < t.numel(); i++) {
                    t.setFlat(i, (float) Math.sin(i + 0.3 * k) * 0.5f);
                }
            }
            assertGradientsMatchFiniteDifferences(m, ids);
        }
    }

    @Test
    void fullFineTuningGradientsOfEveryBaseWeightMatchFiniteDifferences() {
        LlamaConfig c = new LlamaConfig(8, 1, 2, 1, 12, 11, 10000.0, 1e-5f, true);
        try (LlamaModel m = LlamaModel.random(c, 4, BaseFormat.BF16); Tensor ids = Tensor.of(DType.I32, new float[]{1, 5, 3, 7, 2, 9}, 2, 3)) {
            m.enableFullFineTuning();
            // Tied embeddings: the table feeds both the lookup and the head, so both paths add into its gradient.
            assertEquals(2 + 7 + 2, m.trainableParameters().size(), "embeddings, 2 norms, 7 linear, final norm");
            assertGradientsMatchFiniteDifferences(m, ids);
        }
    }

    @Test
    void fullFineTuningRefusesAQuantizedBase() {
        LlamaConfig c = new LlamaConfig(64, 1, 2, 1, 64, 11, 10000.0, 1e-5f, false);
        try (LlamaModel m = LlamaModel.random(c, 4, BaseFormat.NF4)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, m::enableFullFineTuning);
            assertTrue(e.getMessage().contains("quantized") && e.getMessage().contains("BaseFormat.F32"), e.getMessage());
        }
    }

    /** Backward against central differences of L = Σ logits·probe, for every element of every trainable parameter. */
    private static void assertGradientsMatchFiniteDifferences(LlamaModel m, Tensor ids) {
        List<Var> leaves = m.trainableParameters();
        try (Scope s = Scope.open()) {
            Var logits = m.forward(ids);
            Tensor probe = Tensor.of(probe(logits.value().numel()), logits.value().shape().dims());
            Tape.backward(F.sum(F.mul(logits, Var.leaf(probe, false))));
            double worst = 0;
            for (int k = 0; k < leaves.size(); k++) {
                Tensor t = leaves.get(k).value();
                float[] g = leaves.get(k).grad().toFloatArray();
                for (int i = 0; i < t.numel(); i++) {
                    float o = t.getFlat(i);
                    t.setFlat(i, o + 1e-2f);
                    double plus = loss(m, ids, probe);
                    t.setFlat(i, o - 1e-2f);
                    double minus = loss(m, ids, probe);
                    t.setFlat(i, o);
                    double numeric = (plus - minus) / ((double) (o + 1e-2f) - (double) (o - 1e-2f));
                    worst = Math.max(worst, Math.abs(g[i] - numeric) / (1 + Math.abs(numeric)));
                }
            }
            m.trainableParameters().forEach(Var::zeroGrad);
            // f32 forward at unit scale: finite differences carry ~1e-2 noise; a wrong gradient is off by O(1).
            assertTrue(worst < 2e-2, "worst gradient error " + worst);
        }
    }

    private static float[] probe(long n) {
        float[] p = new float[(int) n];
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) Math.cos(i * 0.7);
        }
        return p;
    }

    private static double loss(LlamaModel m, Tensor ids, Tensor probe) {
        try (Scope s = Scope.open(); AutoCloseable off = Tape.noGrad()) {
            float[] y = m.forward(ids).value().toFloatArray();
            float[] p = probe.toFloatArray();
            double sum = 0;
            for (int i = 0; i < y.length; i++) {
                sum += (double) y[i] * p[i];
            }
            return sum;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void anAdapterOnAnNf4BaseLearnsASequenceTaskAndSwitchesOff() {
        // Task: predict (token + 1) mod vocab from each token, a mapping the random base does not know.
        LlamaConfig c = new LlamaConfig(64, 2, 4, 2, 128, 16, 10000.0, 1e-5f, false);
        try (LlamaModel m = LlamaModel.random(c, 2, BaseFormat.NF4)) {
            m.attachLora(Set.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"), 8, 16, false, 5);
            float[] in = new float[4 * 8];
            float[] out = new float[in.length];
            for (int i = 0; i < in.length; i++) {
                in[i] = (i * 7 + 3) % 16;
                out[i] = (in[i] + 1) % 16;
            }
            try (Tensor ids = Tensor.of(DType.I32, in, 4, 8); Tensor targets = Tensor.of(DType.I32, out, in.length);
                 AdamW opt = new AdamW(0.9f, 0.999f, 1e-8f, 0f)) {
                double first = 0;
                double last = 0;
                for (int step = 0; step < 120; step++) {
                    try (Scope s = Scope.open()) {
                        Var loss = F.crossEntropy(m.forward(ids), targets, -100);
                        Tape.backward(loss);
                        double v = loss.value().getFlat(0);
                        first = step == 0 ? v : first;
                        last = v;
                        Training.clipGradNorm(m.trainableParameters(), 1.0);
                        opt.step(m.trainableParameters(), Training.warmupCosine(3e-2f, 5, 120, step));
                        m.trainableParameters().forEach(Var::zeroGrad);
                    }
                }
                assertTrue(first > 2.5 && last < 0.5, "loss from " + first + " to " + last);
                m.setAdaptersEnabled(false);
                try (Scope s = Scope.open()) {
                    double base = F.crossEntropy(m.forward(ids), targets, -100).value().getFlat(0);
                    assertEquals(first, base, 1e-4, "with adapters off the model is its base again");
                }
            }
        }
    }

    @Test
    void badTargetsAndConfigsAreNamed() {
        assertThrows(IllegalArgumentException.class, () -> new LlamaConfig(10, 1, 3, 1, 8, 8, 1e4, 1e-5f, true));
        LlamaConfig c = new LlamaConfig(8, 1, 2, 2, 8, 8, 1e4, 1e-5f, true);
        try (LlamaModel m = LlamaModel.random(c, 1, BaseFormat.F32)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> m.attachLora(Set.of("qkv"), 2, 4, false, 1));
            assertTrue(e.getMessage().contains("q_proj"), e.getMessage());
            assertEquals("model.layers.3.mlp.up_proj.weight", LlamaModel.linearKey(3, "up_proj"));
            assertEquals("model.layers.0.self_attn.o_proj.weight", LlamaModel.linearKey(0, "o_proj"));
        }
    }
}
