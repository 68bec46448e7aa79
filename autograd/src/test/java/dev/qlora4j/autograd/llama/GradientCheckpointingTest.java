package dev.qlora4j.autograd.llama;

import dev.qlora4j.autograd.Tape;
import dev.qlora4j.autograd.Var;
import dev.qlora4j.engine.Allocator;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checkpointing each decoder layer changes what a step keeps, not what it computes: the loss and
 * every trained parameter's gradient equal those of the plain step bit for bit on the CPU — for
 * LoRA over an NF4 base with LoRA dropout on (its masks replayed), and for full fine-tuning — while
 * the memory held at the end of the forward pass drops.
 */
class GradientCheckpointingTest {
    private static final LlamaConfig CONFIG = new LlamaConfig(32, 3, 4, 2, 48, 40, 10000.0, 1e-5f, false);

    private record Step(float loss, List<float[]> grads, long heldAfterForward) {
    }

    private static Step step(LlamaModel m, boolean checkpointing) {
        m.setGradientCheckpointing(checkpointing);
        SplittableRandom r = new SplittableRandom(11);
        float[] ids = new float[2 * 24];
        float[] targets = new float[ids.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(CONFIG.vocabSize());
            targets[i] = i % 7 == 0 ? -100 : r.nextInt(CONFIG.vocabSize());
        }
        try (Scope s = Scope.open()) {
            long before = Allocator.cpu().stats().live();
            Var loss = m.loss(Tensor.of(DType.I32, ids, 2, 24), Tensor.of(DType.I32, targets, ids.length), -100);
            long held = Allocator.cpu().stats().live() - before;
            float value = loss.value().getFlat(0);
            Tape.backward(loss);
            List<float[]> grads = new ArrayList<>();
            for (Var p : m.trainableParameters()) {
                grads.add(p.grad().toFloatArray());
                p.zeroGrad();
            }
            return new Step(value, grads, held);
        }
    }

    private static void assertSameStep(Step plain, Step checkpointed) {
        assertEquals(plain.loss(), checkpointed.loss());
        assertEquals(plain.grads().size(), checkpointed.grads().size());
        for (int i = 0; i < plain.grads().size(); i++) {
            assertArrayEquals(plain.grads().get(i), checkpointed.grads().get(i), "gradient of parameter " + i);
        }
        assertTrue(checkpointed.heldAfterForward() < plain.heldAfterForward() / 2,
                "held after the forward: " + checkpointed.heldAfterForward() + " with checkpointing, " + plain.heldAfterForward()
                        + " without");
    }

    @Test
    void loraGradientsWithDropoutAreTheSameBitForBit() {
        Step plain;
        Step checkpointed;
        try (LlamaModel m = LlamaModel.random(CONFIG, 1, BaseFormat.NF4)) {
            m.attachLora(Set.of("q_proj", "v_proj", "down_proj"), 4, 8, false, 2);
            m.adapters().values().forEach(a -> a.setDropout(0.1));
            m.adapters().values().forEach(a -> a.setTraining(true));
            plain = step(m, false);
        }
        try (LlamaModel m = LlamaModel.random(CONFIG, 1, BaseFormat.NF4)) {
            m.attachLora(Set.of("q_proj", "v_proj", "down_proj"), 4, 8, false, 2);
            m.adapters().values().forEach(a -> a.setDropout(0.1));
            m.adapters().values().forEach(a -> a.setTraining(true));
            checkpointed = step(m, true);
        }
        assertSameStep(plain, checkpointed);
    }

    @Test
    void fullFineTuningGradientsAreTheSameBitForBit() {
        try (LlamaModel m = LlamaModel.random(CONFIG, 3, BaseFormat.F32)) {
            m.enableFullFineTuning();
            Step plain = step(m, false);
            Step checkpointed = step(m, true);
            assertSameStep(plain, checkpointed);
        }
    }
}
