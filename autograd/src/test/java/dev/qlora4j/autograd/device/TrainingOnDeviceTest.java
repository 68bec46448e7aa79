package dev.qlora4j.autograd.device;

import dev.qlora4j.autograd.AdamW;
import dev.qlora4j.autograd.F;
import dev.qlora4j.autograd.Tape;
import dev.qlora4j.autograd.Var;
import dev.qlora4j.autograd.llama.BaseFormat;
import dev.qlora4j.autograd.llama.LlamaConfig;
import dev.qlora4j.autograd.llama.LlamaModel;
import dev.qlora4j.autograd.llama.Trainer;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole training path — a Llama-architecture model, LoRA adapters, cross-entropy, backward,
 * clipping and AdamW — run on a device and on the CPU from the same weights and batch: losses and
 * trained adapters agree step by step. The CPU path is the one checked against finite differences
 * and PyTorch elsewhere, and the device runs its own kernels, so agreement checks the device.
 */
abstract class TrainingOnDeviceTest {
    private static final LlamaConfig CONFIG = new LlamaConfig(32, 2, 4, 2, 48, 24, 10000.0, 1e-5f, false);
    private static final int BATCH = 2;
    private static final int TOKENS = 8;

    abstract Device device();

    /** Losses of three steps and the gradients of the first step, with the model on {@code device}. */
    private static float[][] train(Device device, BaseFormat format, boolean full) {
        try (LlamaModel model = LlamaModel.random(CONFIG, 7, format)) {
            model.to(device);
            if (full) {
                model.enableFullFineTuning();
            } else {
                model.attachLora(Set.of("q_proj", "v_proj", "down_proj"), 4, 8f, false, 11);
                // B starts at zero: a few steps must move it for the comparison to mean something.
            }
            SplittableRandom r = new SplittableRandom(3);
            float[] ids = new float[BATCH * TOKENS];
            float[] targets = new float[BATCH * TOKENS];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = r.nextInt(CONFIG.vocabSize());
                targets[i] = i % TOKENS == 0 ? -100 : r.nextInt(CONFIG.vocabSize());
            }
            float[] gradients;
            try (Tensor tIds = Tensor.of(DType.I32, ids, BATCH, TOKENS); Tensor tTargets = Tensor.of(DType.I32, targets, BATCH * TOKENS);
                 Scope step = Scope.open()) {
                Tape.backward(F.crossEntropy(model.forward(tIds), tTargets, -100));
                gradients = gradients(model.trainableParameters());
                model.trainableParameters().forEach(Var::zeroGrad);
            }
            float[] losses = new float[3];
            try (Trainer trainer = new Trainer(model, AdamW.withDefaults(), new Trainer.Schedule(1e-2f, 0, 3, 1.0));
                 Tensor tIds = Tensor.of(DType.I32, ids, BATCH, TOKENS); Tensor tTargets = Tensor.of(DType.I32, targets, BATCH * TOKENS)) {
                for (int s = 0; s < losses.length; s++) {
                    losses[s] = trainer.step(tIds, tTargets);
                }
            }
            return new float[][]{losses, gradients};
        }
    }

    /** Every parameter's gradient in order, in one array. */
    private static float[] gradients(List<Var> params) {
        float[] all = new float[params.stream().mapToInt(p -> (int) p.value().numel()).sum()];
        int at = 0;
        for (Var p : params) {
            float[] v = p.grad().toFloatArray();
            System.arraycopy(v, 0, all, at, v.length);
            at += v.length;
        }
        return all;
    }

    /**
     * Losses of every step, and the gradients of the first, agree between the device and the CPU
     * to {@code tolerance} (relative; gradients in relative L2 norm). Trained values are not
     * compared: AdamW's first steps move each weight by ±lr whatever its gradient's size, so a
     * gradient near zero whose last bits differ (a GPU's exp, log and summation order are not the
     * CPU's) may flip its weight's step. The later losses carry the updates' effect.
     */
    private void compare(BaseFormat format, boolean full, double tolerance) {
        float[][] cpu = train(Device.CPU, format, full);
        float[][] dev = train(device(), format, full);
        for (int s = 0; s < cpu[0].length; s++) {
            assertEquals(cpu[0][s], dev[0][s], tolerance * Math.abs(cpu[0][s]), format + " loss at step " + s);
        }
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < cpu[1].length; i++) {
            diff += Math.pow(cpu[1][i] - dev[1][i], 2);
            norm += Math.pow(cpu[1][i], 2);
        }
        assertTrue(norm > 0 && Math.sqrt(diff / norm) < tolerance, format + " first-step gradients differ by "
                + Math.sqrt(diff / norm) + " (relative L2) between " + device() + " and the CPU");
    }

    @Test
    void loraOnAnF32BaseMatchesTheCpu() {
        compare(BaseFormat.F32, false, 1e-4);
    }

    @Test
    void loraOnAnNf4BaseMatchesTheCpuToBf16Rounding() {
        // The GPU multiplies the NF4 base in BF16 (x and W rounded to 8 bits of mantissa), the CPU in F32.
        compare(BaseFormat.NF4, false, 2e-2);
    }

    @Test
    void fullFineTuningMatchesTheCpu() {
        compare(BaseFormat.F32, true, 1e-4);
    }

    /** The first step's loss, gradients, and device bytes held after its forward, with the chosen checkpointing. */
    private record Step(float loss, float[] gradients, long heldAfterForward) {
    }

    private Step checkpointedStep(LlamaModel model, boolean offload) {
        model.setGradientCheckpointing(true);
        model.setCheckpointOffload(offload);
        SplittableRandom r = new SplittableRandom(5);
        float[] ids = new float[BATCH * TOKENS];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(CONFIG.vocabSize());
        }
        try (Tensor tIds = Tensor.of(DType.I32, ids, BATCH, TOKENS); Scope step = Scope.open()) {
            long before = device().allocator().stats().live();
            Var loss = model.loss(tIds, tIds.reshape(BATCH * TOKENS), -100);
            long held = device().allocator().stats().live() - before;
            Tape.backward(loss);
            float[] gradients = gradients(model.trainableParameters());
            model.trainableParameters().forEach(Var::zeroGrad);
            return new Step(loss.value().getFlat(0), gradients, held);
        }
    }

    @Test
    void theEmbeddingStaysOnTheHostAndOffloadedCheckpointsGiveTheSameGradients() {
        long hostBefore = Device.CPU.allocator().stats().live();
        try (LlamaModel model = LlamaModel.random(CONFIG, 7, BaseFormat.NF4)) {
            model.to(device());
            // Of the weights made in host memory only the input embedding table [vocab, hidden], BF16
            // under NF4, is still there (a multiple of the allocator's 64 bytes: no rounding).
            assertEquals(2L * CONFIG.vocabSize() * CONFIG.hiddenSize(), Device.CPU.allocator().stats().live() - hostBefore);
            model.attachLora(Set.of("q_proj", "v_proj", "down_proj"), 4, 8f, false, 11);
            checkpointedStep(model, false);   // makes what a device keeps once made (RoPE tables), off the count
            Step onDevice = checkpointedStep(model, false);
            Step offloaded = checkpointedStep(model, true);
            assertEquals(onDevice.loss(), offloaded.loss());
            org.junit.jupiter.api.Assertions.assertArrayEquals(onDevice.gradients(), offloaded.gradients());
            // Offloaded, every layer's input leaves the device — the embedding's output, the first layer's
            // input, too — each [B·T, hidden] F32.
            long layerInput = 4L * BATCH * TOKENS * CONFIG.hiddenSize();
            assertEquals(onDevice.heldAfterForward() - CONFIG.layers() * layerInput, offloaded.heldAfterForward(),
                    "held after the forward with the layer inputs on the device and in host memory");
        }
    }

    @Test
    void concatRefusesPartsOnAnotherDevice() {
        // The pieces are copied into the result by its device's backend: a GPU part copied by the
        // CPU backend would be read through a device address.
        try (Tensor host = Tensor.zeros(DType.F32, 2, 3); Tensor onDevice = host.to(device())) {
            Var a = Var.leaf(host, false);
            Var b = Var.leaf(onDevice, false);
            assertThrows(IllegalArgumentException.class, () -> F.concat(List.of(a, b), 0));
            assertThrows(IllegalArgumentException.class, () -> F.concat(List.of(b, a), 0));
        }
    }
}
