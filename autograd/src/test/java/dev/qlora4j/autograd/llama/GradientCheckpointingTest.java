package dev.qlora4j.autograd.llama;

import org.junit.jupiter.api.Test;

import java.util.Set;

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

    private static ProbeStep step(LlamaModel m, boolean checkpointing) {
        m.setGradientCheckpointing(checkpointing);
        return ProbeStep.run(m, 2, 24, 11, true);
    }

    private static void assertSameStep(ProbeStep plain, ProbeStep checkpointed) {
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
        ProbeStep plain;
        ProbeStep checkpointed;
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
            ProbeStep plain = step(m, false);
            ProbeStep checkpointed = step(m, true);
            assertSameStep(plain, checkpointed);
        }
    }

    @Test
    void aChainOfNoBlocksIsRefusedByName() {
        try (dev.qlora4j.engine.Tensor t = dev.qlora4j.engine.Tensor.zeros(dev.qlora4j.engine.DType.F32, 2, 3)) {
            dev.qlora4j.autograd.Var x = dev.qlora4j.autograd.Var.leaf(t, true);
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> dev.qlora4j.autograd.F.checkpoint(x, 0, (i, in) -> in, java.util.List.of(), t.device(),
                            dev.qlora4j.engine.DType.F32));
            assertTrue(e.getMessage().contains("checkpoint: 0 blocks; expected at least 1"), e.getMessage());
        }
    }

    @Test
    void layerInputsKeptInBf16ChangeTheGradientsByARoundingAndTheLossNot() {
        ProbeStep f32;
        ProbeStep bf16;
        try (LlamaModel m = LlamaModel.random(CONFIG, 1, BaseFormat.NF4)) {
            m.attachLora(Set.of("q_proj", "v_proj", "down_proj"), 4, 8, false, 2);
            f32 = step(m, true);
            m.setCheckpointType(dev.qlora4j.engine.DType.BF16);
            bf16 = step(m, true);
        }
        // The forward runs on the F32 values either way; only the recomputation reads rounded inputs.
        assertEquals(f32.loss(), bf16.loss());
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < f32.grads().size(); i++) {
            for (int j = 0; j < f32.grads().get(i).length; j++) {
                diff += Math.pow(f32.grads().get(i)[j] - bf16.grads().get(i)[j], 2);
                norm += Math.pow(f32.grads().get(i)[j], 2);
            }
        }
        double relative = Math.sqrt(diff / norm);
        System.out.printf("BF16 layer inputs: adapter gradients off the F32 ones by %.2e (relative L2)%n", relative);
        // A BF16 rounding is 2^-9 relative at most: the gradients move by about that much, not more.
        assertTrue(relative > 0 && relative < 1e-2, "relative L2 difference of the adapter gradients: " + relative);
        assertTrue(bf16.heldAfterForward() < f32.heldAfterForward(), bf16.heldAfterForward() + " vs " + f32.heldAfterForward());
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> {
            try (LlamaModel m = LlamaModel.random(CONFIG, 1, BaseFormat.NF4)) {
                m.setCheckpointType(dev.qlora4j.engine.DType.F16);
            }
        });
        assertTrue(e.getMessage().contains("expected F32 or BF16"), e.getMessage());
    }
}
