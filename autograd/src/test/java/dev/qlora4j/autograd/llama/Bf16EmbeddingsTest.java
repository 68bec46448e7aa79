package dev.qlora4j.autograd.llama;

import dev.qlora4j.autograd.Tape;
import dev.qlora4j.autograd.Var;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Under a quantized base the embedding table and the head are held in BF16, as bitsandbytes models
 * keep them. What that costs, against the same NF4 model with both in F32, on a 2-layer model with
 * a 1,000-token vocabulary: the loss within 0.2% and each adapter gradient within 1% (relative L2),
 * measured here at 0.002% and 0.5%.
 */
class Bf16EmbeddingsTest {
    private static final LlamaConfig CONFIG = new LlamaConfig(128, 2, 4, 2, 256, 1000, 10000.0, 1e-5f, false);

    private record Step(float loss, List<float[]> grads, long baseBytes) {
    }

    private static Step step(DType embeddings) {
        try (LlamaModel m = LlamaModel.random(CONFIG, 7, BaseFormat.NF4, embeddings); Scope s = Scope.open()) {
            m.attachLora(Set.of("q_proj", "v_proj", "down_proj"), 8, 16, false, 3);
            // B starts at zero, which would leave A's gradient zero: give B values first.
            m.adapters().values().forEach(a -> {
                float[] b = new float[(int) a.loraB().value().numel()];
                SplittableRandom r = new SplittableRandom(5);
                for (int i = 0; i < b.length; i++) {
                    b[i] = (float) (r.nextGaussian() * 0.02);
                }
                dev.qlora4j.engine.Ops.copyInto(Tensor.of(b, a.loraB().value().shape().dims()), a.loraB().value());
            });
            SplittableRandom r = new SplittableRandom(9);
            float[] ids = new float[4 * 32];
            float[] targets = new float[ids.length];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = r.nextInt(CONFIG.vocabSize());
                targets[i] = r.nextInt(CONFIG.vocabSize());
            }
            Var loss = m.loss(Tensor.of(DType.I32, ids, 4, 32), Tensor.of(DType.I32, targets, ids.length), -100);
            float value = loss.value().getFlat(0);
            Tape.backward(loss);
            List<float[]> grads = new ArrayList<>();
            for (Var p : m.trainableParameters()) {
                grads.add(p.grad().toFloatArray());
                p.zeroGrad();
            }
            return new Step(value, grads, m.baseBytes());
        }
    }

    @Test
    void lossAndAdapterGradientsStayCloseToTheF32Path() {
        Step f32 = step(DType.F32);
        Step bf16 = step(DType.BF16);
        // The embedding table and the untied head, 1,000 × 128 each, at 2 bytes instead of 4.
        assertEquals(2L * 2 * 1000 * 128, f32.baseBytes() - bf16.baseBytes());
        double lossError = Math.abs(bf16.loss() - f32.loss()) / Math.abs(f32.loss());
        assertTrue(lossError < 2e-3, "loss " + bf16.loss() + " against " + f32.loss());
        double worst = 0;
        for (int i = 0; i < f32.grads().size(); i++) {
            double diff = 0;
            double norm = 0;
            for (int j = 0; j < f32.grads().get(i).length; j++) {
                double e = f32.grads().get(i)[j];
                diff += (bf16.grads().get(i)[j] - e) * (bf16.grads().get(i)[j] - e);
                norm += e * e;
            }
            worst = Math.max(worst, Math.sqrt(diff / norm));
        }
        assertTrue(worst < 1e-2, "worst relative L2 error of an adapter gradient: " + worst);
        System.out.printf("BF16 embeddings and head against F32: loss %.3g relative, adapter gradients %.3g (worst relative L2)%n",
                lossError, worst);
    }
}
