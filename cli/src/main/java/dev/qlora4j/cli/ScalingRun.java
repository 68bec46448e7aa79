package dev.qlora4j.cli;

import java.util.Arrays;

/**
 * One fine-tuning run of the scaling study and what it measured.
 *
 * @param losses     the loss of every step taken, all finite; a run stopped by a NaN or infinite loss
 *                   ends before that step
 * @param divergedAt the step at which the run diverged and was stopped, 0 if it ran to the end
 * @param accuracy   exact-match accuracy on the held-out words after training
 */
record ScalingRun(LoraScaling scaling, int rank, double alpha, float[] losses, int divergedAt, double accuracy) {
    /** A loss this many times the first step's counts as divergence: training made the model worse than untrained. */
    static final double DIVERGENCE_FACTOR = 10;
    /** Steps averaged for the final loss, which smooths one batch's noise. */
    static final int FINAL_WINDOW = 5;

    /** The effective multiplier s of the LoRA update. */
    double factor() {
        return scaling.factor(alpha, rank);
    }

    boolean diverged() {
        return divergedAt > 0;
    }

    /** The first step's loss: the base model on the new task. NaN if even that was not finite. */
    double startLoss() {
        return losses.length == 0 ? Double.NaN : losses[0];
    }

    /** The mean loss of the last {@link #FINAL_WINDOW} steps taken; NaN if none was. */
    double finalLoss() {
        if (losses.length == 0) {
            return Double.NaN;
        }
        return Arrays.stream(tail()).average().orElseThrow();
    }

    private double[] tail() {
        double[] t = new double[Math.min(FINAL_WINDOW, losses.length)];
        for (int i = 0; i < t.length; i++) {
            t[i] = losses[losses.length - t.length + i];
        }
        return t;
    }
}
