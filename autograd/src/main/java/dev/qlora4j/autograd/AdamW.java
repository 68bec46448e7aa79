package dev.qlora4j.autograd;

import dev.qlora4j.engine.AdamWStep;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.TrainingOps;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW (decoupled weight decay, bias-corrected moments) over f32 parameters, with f32 state kept
 * only for the parameters it is given — the trainable adapters, never the frozen base. One step:
 * <pre>
 *   m = β1·m + (1-β1)·g        v = β2·v + (1-β2)·g²
 *   p = p - lr·wd·p - lr · (m / (1-β1^t)) / (sqrt(v / (1-β2^t)) + ε)
 * </pre>
 * (the order and formulas of torch.optim.AdamW). Owns its state tensors.
 */
public final class AdamW implements AutoCloseable {
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;
    private final Map<Var, Tensor[]> state = new IdentityHashMap<>();
    private long steps;

    /**
     * An optimizer with moment decay rates {@code beta1} and {@code beta2}, {@code eps} added to the
     * denominator, and decoupled weight decay {@code weightDecay}; it holds no state before its first step.
     */
    public AdamW(float beta1, float beta2, float eps, float weightDecay) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /** torch's defaults: β = (0.9, 0.999), ε = 1e-8, weight decay 0.01. */
    public static AdamW withDefaults() {
        return new AdamW(0.9f, 0.999f, 1e-8f, 0.01f);
    }

    /** Steps taken so far (t of the bias corrections), as {@link #restore} last set it plus those since. */
    public long steps() {
        return steps;
    }

    /**
     * Updates every parameter that has a gradient, in place.
     *
     * @throws IllegalStateException when a gradient holds NaN or infinity: the weights stay untouched
     */
    public void step(List<Var> parameters, float lr) {
        // One max over every gradient, so that a GPU is waited for once; only a bad step looks further.
        if (!Float.isFinite(Training.maxAbs(Training.gradients(parameters)))) {
            for (Var p : parameters) {
                if (p.grad() != null && !finite(p.grad())) {
                    throw new IllegalStateException("AdamW step " + (steps + 1) + ": the gradient of " + p
                            + " is not finite; no parameter was updated");
                }
            }
        }
        steps++;
        AdamWStep update = new AdamWStep(lr, beta1, beta2, eps, weightDecay,
                (float) (1 - Math.pow(beta1, steps)), (float) (1 - Math.pow(beta2, steps)));
        for (Var p : parameters) {
            Tensor g = p.grad();
            if (g == null) {
                continue;
            }
            Tensor value = p.value();
            if (value.dtype() != DType.F32 || !value.isContiguous() || !g.isContiguous()) {
                throw new IllegalArgumentException("AdamW: parameter " + p + " must be a contiguous F32 tensor");
            }
            // The moments outlive the step: created outside whatever scope the step runs in.
            Tensor[] mv = state.computeIfAbsent(p, k -> dev.qlora4j.engine.Scope.unscoped(() -> new Tensor[]{
                    Tensor.zeros(DType.F32, value.shape(), value.device()), Tensor.zeros(DType.F32, value.shape(), value.device())}));
            TrainingOps.adamw(value, g, mv[0], mv[1], update);
        }
    }

    /** Whether every element is finite: the largest |element| is NaN or infinite exactly when one is. */
    private static boolean finite(Tensor t) {
        return Float.isFinite(Training.maxAbs(List.of(t)));
    }

    /**
     * Restores the moments of {@code p} and the step count, as a resumed run needs (copies m and v,
     * to the device {@code p} lives on).
     */
    public void restore(Var p, Tensor m, Tensor v, long stepCount) {
        if (!m.shape().equals(p.value().shape()) || !v.shape().equals(p.value().shape())) {
            throw new IllegalArgumentException("AdamW.restore: moments " + m.describe() + ", " + v.describe()
                    + " for parameter " + p + "; expected its shape");
        }
        Tensor[] old = state.put(p, dev.qlora4j.engine.Scope.unscoped(() -> new Tensor[]{moment(m, p), moment(v, p)}));
        if (old != null) {
            old[0].close();
            old[1].close();
        }
        steps = stepCount;
    }

    /** A restored moment in F32 beside its parameter: a checkpoint's tensors are read to the host. */
    private static Tensor moment(Tensor saved, Var p) {
        try (Tensor f32 = dev.qlora4j.engine.Ops.cast(saved, DType.F32)) {
            return f32.to(p.value().device());
        }
    }

    /** The first and second moment of {@code p}, or null before its first step. */
    public Tensor[] state(Var p) {
        return state.get(p);
    }

    /** Bytes of optimizer state held. */
    public long stateBytes() {
        return state.values().stream().mapToLong(t -> (t[0].numel() + t[1].numel()) * Float.BYTES).sum();
    }

    @Override
    public void close() {
        state.values().forEach(t -> {
            t[0].close();
            t[1].close();
        });
        state.clear();
    }
}
