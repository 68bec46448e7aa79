package dev.qlora4j.autograd;

import dev.qlora4j.engine.BinaryOp;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.ReduceOp;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.UnaryOp;

import java.util.List;
import java.util.function.Function;

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
        double norm = norm(gradients(parameters));
        if (norm > maxNorm) {
            float factor = (float) (maxNorm / (norm + 1e-6));
            for (Var p : parameters) {
                if (p.grad() != null) {
                    Tensor scaled = Ops.scale(p.grad(), factor);
                    p.zeroGrad();
                    p.accumulate(scaled);
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
     * The L2 norm of every element of every tensor, computed on the tensors' device with two numbers
     * crossing to the host, as {@code max|t| · sqrt(Σ (t / max|t|)²)}: summing plain squares in f32
     * would overflow into a false infinity once an element passes about 1.8e19 (clipping would then
     * zero every gradient, and AdamW call the step non-finite). NaN or infinity exactly when an
     * element is.
     */
    static double norm(List<Tensor> tensors) {
        float max = maxAbs(tensors);
        if (max == 0 || !Float.isFinite(max)) {
            return max;
        }
        double sum;
        try (Tensor total = fold(tensors, BinaryOp.ADD, flat -> {
            try (Tensor q = Ops.binary(BinaryOp.DIV, flat, max); Tensor sq = Ops.mul(q, q)) {
                return Ops.reduce(ReduceOp.SUM, sq, 0, true);
            }
        })) {
            sum = total.getFlat(0);
        }
        return max * Math.sqrt(sum);
    }

    /**
     * The largest |element| of all the tensors, computed on their device (one number crosses to the
     * host); NaN or infinity exactly when an element is, so it also answers "is everything finite?".
     */
    static float maxAbs(List<Tensor> tensors) {
        try (Tensor m = fold(tensors, BinaryOp.MAX, flat -> {
            try (Tensor a = Ops.unary(UnaryOp.ABS, flat)) {
                return Ops.reduce(ReduceOp.MAX, a, 0, true);
            }
        })) {
            return m == null ? 0 : m.getFlat(0);
        }
    }

    /**
     * {@code combine} over {@code perTensor} of each non-empty tensor flattened: a [1] tensor on
     * their device, or null when every tensor is empty.
     */
    private static Tensor fold(List<Tensor> tensors, BinaryOp combine, Function<Tensor, Tensor> perTensor) {
        Tensor total = null;
        try {
            for (Tensor g : tensors) {
                if (g.numel() == 0) {
                    continue;
                }
                try (Tensor flat = g.reshape(-1); Tensor part = perTensor.apply(flat)) {
                    Tensor next = total == null ? Ops.cast(part, DType.F32) : Ops.binary(combine, total, part);
                    if (total != null) {
                        total.close();
                    }
                    total = next;
                }
            }
            Tensor result = total;
            total = null;
            return result;
        } finally {
            if (total != null) {
                total.close();
            }
        }
    }
}
