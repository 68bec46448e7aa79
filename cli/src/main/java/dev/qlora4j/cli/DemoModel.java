package dev.qlora4j.cli;

import dev.qlora4j.autograd.AdamW;
import dev.qlora4j.autograd.llama.BaseFormat;
import dev.qlora4j.autograd.llama.LlamaConfig;
import dev.qlora4j.autograd.llama.LlamaModel;
import dev.qlora4j.autograd.llama.Trainer;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Tensor;

import java.util.SplittableRandom;

/**
 * The demo's base model: a 2-layer Llama-architecture decoder (d 128, 4 query heads sharing 2
 * key/value heads, SwiGLU MLP 256, one token per character of {@link DemoTask#VOCAB}), fully trained
 * in F32 on the copy task. It learns it in a few dozen steps; the default trains a margin beyond.
 */
final class DemoModel {
    static final LlamaConfig CONFIG = new LlamaConfig(128, 2, 4, 2, 256, DemoTask.VOCAB.length(), 10000.0, 1e-5f, false);
    static final int BATCH = 64;

    private DemoModel() {
    }

    /** Trains a fresh base on the copy task on {@code device}, where it stays; the caller owns the model. */
    static LlamaModel trainBase(int steps, long seed, Device device, ProgressBar bar) {
        LlamaModel m = LlamaModel.random(CONFIG, seed, BaseFormat.F32);
        try {
            m.to(device);
            m.enableFullFineTuning();
            SplittableRandom data = new SplittableRandom(seed + 1);
            try (Trainer trainer = new Trainer(m, new AdamW(0.9f, 0.95f, 1e-8f, 0.01f),
                    new Trainer.Schedule(3e-3f, Math.min(30, steps / 4), steps, 1.0))) {
                for (int s = 1; s <= steps; s++) {
                    float loss = step(trainer, DemoTask.Kind.COPY, data);
                    bar.update(s, status(loss, s, bar));
                }
            }
            return m;
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /** One training step on a fresh batch of {@code kind}; returns its loss. */
    static float step(Trainer trainer, DemoTask.Kind kind, SplittableRandom data) {
        Tensor[] batch = DemoTask.batch(kind, BATCH, data);
        try {
            return trainer.step(batch[0], batch[1]);
        } finally {
            batch[0].close();
            batch[1].close();
        }
    }

    /** "loss 0.0123  41,000 tok/s" after {@code steps} steps. */
    static String status(float loss, int steps, ProgressBar bar) {
        double tokens = (double) steps * BATCH * (DemoTask.LENGTH - 1);
        return String.format("loss %.4f  %,.0f tok/s", loss, tokens / Math.max(1e-9, bar.elapsedSeconds()));
    }
}
