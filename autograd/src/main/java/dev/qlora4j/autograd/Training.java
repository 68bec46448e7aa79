package dev.qlora4j.autograd;

import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Tensor;

import java.util.List;

/** Training-loop helpers: the learning-rate schedule and gradient clipping. */
public final class Training {
    private Training() {
    }

    /**
     * Linear warmup from 0 to {@code peak} over {@code warmup} steps, then cosine decay to 0 at
     * {@code total} steps (the shape of transformers' {@code get_cosine_schedule_with_warmup}).
     *
     * @param step 0-based step index
     */
    public static float warmupCosine(float peak, int warmup, int total, int step) {
        if (step < warmup) {
            return peak * (step + 1) / (float) warmup;
        }
        double progress = Math.min(1.0, (step - warmup) / (double) Math.max(1, total - warmup));
        return (float) (peak * 0.5 * (1 + Math.cos(Math.PI * progress)));
    }

    /**
     * Scales every gradient by {@code maxNorm / ‖g‖} when the global L2 norm ‖g‖ of all of them
     * exceeds {@code maxNorm}.
     *
     * @return the norm before clipping
     */
    public static double clipGradNorm(List<Var> parameters, double maxNorm) {
        double norm = Math.sqrt(squaredNorm(gradients(parameters)));
        if (norm > maxNorm) {
            float factor = (float) (maxNorm / (norm + 1e-6));
            try (Tensor f = Tensor.of(new float[]{factor})) {
                for (Var p : parameters) {
                    if (p.grad() != null) {
                        Tensor scaled = Ops.mul(p.grad(), f);
                        p.zeroGrad();
                        p.accumulate(scaled);
                    }
                }
            }
        }
        return norm;
    }

    /** The gradients the parameters have (those without one are left out). */
    static List<Tensor> gradients(List<Var> parameters) {
        return parameters.stream().map(Var::grad).filter(java.util.Objects::nonNull).toList();
    }

    /**
     * Σ t² over every element of every tensor, summed on the tensors' device so that only one
     * number crosses to the host; NaN or infinity when an element is (or when a square overflows f32).
     */
    static double squaredNorm(List<Tensor> tensors) {
        Tensor total = null;
        try {
            for (Tensor g : tensors) {
                try (Tensor flat = g.reshape(-1); Tensor sq = Ops.mul(flat, flat); Tensor sum = Ops.sum(sq, 0)) {
                    Tensor next = total == null ? Ops.cast(sum, dev.qlora4j.engine.DType.F32) : Ops.add(total, sum);
                    if (total != null) {
                        total.close();
                    }
                    total = next;
                }
            }
            return total == null ? 0 : total.getFlat(0);
        } finally {
            if (total != null) {
                total.close();
            }
        }
    }
}
