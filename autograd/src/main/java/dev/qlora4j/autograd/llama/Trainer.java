package dev.qlora4j.autograd.llama;

import dev.qlora4j.autograd.AdamW;
import dev.qlora4j.autograd.Tape;
import dev.qlora4j.autograd.Training;
import dev.qlora4j.autograd.Var;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;

import java.util.List;

/**
 * The training loop of a {@link LlamaModel}'s trainable parameters (adapters, or every weight under
 * full fine-tuning): next-token cross-entropy, backward, gradient clipping by global norm, AdamW with
 * linear warmup and cosine decay. Every step's activations are freed when it returns. The optimizer
 * is owned by the trainer.
 */
public final class Trainer implements AutoCloseable {
    /** Settings of a run: peak learning rate, warmup steps, total steps, clip norm (0: none). */
    public record Schedule(float peakLr, int warmupSteps, int totalSteps, double clipNorm) {
        public Schedule {
            if (!(peakLr > 0) || warmupSteps < 0 || totalSteps < 1 || clipNorm < 0) {
                throw new IllegalArgumentException("training schedule: got lr " + peakLr + ", warmup " + warmupSteps
                        + ", steps " + totalSteps + ", clip " + clipNorm
                        + "; expected lr > 0, warmup >= 0, steps >= 1, clip >= 0");
            }
        }
    }

    private final LlamaModel model;
    private final AdamW optimizer;
    private final Schedule schedule;
    private int step;

    /**
     * A trainer at step 0 that takes ownership of {@code optimizer} (closed with the trainer); the
     * model stays the caller's.
     */
    public Trainer(LlamaModel model, AdamW optimizer, Schedule schedule) {
        this.model = model;
        this.optimizer = optimizer;
        this.schedule = schedule;
    }

    /** Steps taken so far. */
    public int stepsTaken() {
        return step;
    }

    /** Restarts the schedule's count, for a run resumed from a checkpoint at {@code step}. */
    public void resumeAt(int step) {
        this.step = step;
    }

    /** The optimizer, owned by this trainer: its moments are what a training checkpoint saves. */
    public AdamW optimizer() {
        return optimizer;
    }

    /** The learning rate the next step uses. */
    private float learningRate() {
        return Training.warmupCosine(schedule.peakLr(), schedule.warmupSteps(), schedule.totalSteps(), step);
    }

    /**
     * One optimizer step on a batch of I32 token ids [B, T] and next-token targets [B·T] (-100 where no
     * loss is wanted). Returns the loss before the update; a NaN or infinite loss throws before any
     * weight changes.
     */
    public float step(Tensor ids, Tensor targets) {
        List<Var> params = model.trainableParameters();
        try (Scope s = Scope.open()) {
            Var loss = model.loss(ids, targets, -100);
            float value = loss.value().getFlat(0);
            Tape.backward(loss);
            if (schedule.clipNorm() > 0) {
                Training.clipGradNorm(params, schedule.clipNorm());
            }
            optimizer.step(params, learningRate());
            step++;
            return value;
        } finally {
            params.forEach(Var::zeroGrad);
        }
    }

    @Override
    public void close() {
        optimizer.close();
    }
}
