package dev.qlora4j.cli;

import dev.qlora4j.autograd.AdamW;
import dev.qlora4j.autograd.llama.BaseFormat;
import dev.qlora4j.autograd.llama.LlamaModel;
import dev.qlora4j.autograd.llama.Trainer;
import dev.qlora4j.cuda.CudaProbe;
import dev.qlora4j.engine.Allocator;
import dev.qlora4j.engine.Device;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * QLoRA training and generation give back every byte they take: on the demo model (NF4 base,
 * LoRA r 8 on q,v), the device allocator's live bytes after each step equal those after the first
 * step, and after each generated token those before generation. CI runs a bounded soak;
 * {@code -Dqlora4j.soak.steps=10000} (CPU) and {@code -Dqlora4j.soak.device-steps=1000} (the CUDA
 * emulator) run the long one.
 */
class LeakSoakTest {
    @Test
    void cpuTrainingAndGenerationKeepLiveBytesFlat() {
        soak(Device.CPU, Integer.getInteger("qlora4j.soak.steps", 300), 200);
    }

    @Test
    @Tag("cuda-emulated")
    void deviceTrainingAndGenerationKeepLiveBytesFlat() {
        CudaProbe.Result cuda = CudaProbe.run();
        assumeTrue(cuda.usable() && cuda.emulated(), "the CUDA host emulator is not loaded: " + cuda.detail());
        soak(Device.cuda(0), Integer.getInteger("qlora4j.soak.device-steps", 10), 20);
    }

    private static void soak(Device device, int steps, int tokens) {
        Allocator memory = device.allocator();
        try (LlamaModel m = LlamaModel.random(DemoModel.CONFIG, 1, BaseFormat.NF4)) {
            m.to(device);
            m.attachLora(Set.of("q_proj", "v_proj"), 8, 16, false, 2);
            SplittableRandom data = new SplittableRandom(3);
            try (Trainer trainer = new Trainer(m, AdamW.withDefaults(), new Trainer.Schedule(1e-3f, 0, steps, 1.0))) {
                DemoModel.step(trainer, DemoTask.Kind.SHIFT, data);
                long afterFirst = memory.stats().live();
                for (int s = 2; s <= steps; s++) {
                    DemoModel.step(trainer, DemoTask.Kind.SHIFT, data);
                    assertEquals(afterFirst, memory.stats().live(), "live bytes on " + device + " after step " + s);
                }
            }
            long beforeGeneration = memory.stats().live();
            int[] context = new int[DemoTask.LENGTH];
            SplittableRandom sample = new SplittableRandom(4);
            for (int t = 0; t < tokens; t++) {
                float[] logits = m.nextLogits(context);
                // Slide a window of the demo's length, so each token costs the same and any growth is a leak.
                System.arraycopy(context, 1, context, 0, context.length - 1);
                context[context.length - 1] = Math.floorMod(argmax(logits) + sample.nextInt(2), logits.length);
                assertEquals(beforeGeneration, memory.stats().live(), "live bytes on " + device + " after token " + (t + 1));
            }
        }
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
