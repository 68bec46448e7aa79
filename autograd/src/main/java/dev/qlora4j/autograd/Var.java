package dev.qlora4j.autograd;

import dev.qlora4j.engine.Tensor;

/**
 * A value in a computation the tape records: its tensor, whether a gradient is wanted for it, the
 * {@link Node} that produced it (none for a leaf), and the gradient {@link Tape#backward} accumulates.
 *
 * <p>Ownership: a Var does not own its value, which belongs to whoever created it. An intermediate's
 * gradient belongs to the scope {@code backward} runs in; a leaf's gradient belongs to the Var and
 * lives until {@link #zeroGrad}. Not thread-safe.
 */
public final class Var {
    private final Tensor value;
    private final boolean requiresGrad;
    final Node node;
    private Tensor grad;

    Var(Tensor value, boolean requiresGrad, Node node) {
        this.value = value;
        this.requiresGrad = requiresGrad;
        this.node = node;
    }

    /** A leaf: an input ({@code requiresGrad = false}) or a trainable parameter. */
    public static Var leaf(Tensor value, boolean requiresGrad) {
        return new Var(value, requiresGrad, null);
    }

    /** The tensor this Var holds; owned by whoever created it, not by the Var. */
    public Tensor value() {
        return value;
    }

    /**
     * Whether backward computes a gradient for this Var: as given for a leaf; for an op's output,
     * when the tape was recording and one of its inputs requires one.
     */
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** The accumulated gradient, same shape as the value; null before backward reaches this Var. */
    public Tensor grad() {
        return grad;
    }

    /** Forgets the gradient (closing it), so the next backward starts from zero. */
    public void zeroGrad() {
        if (grad != null) {
            grad.close();
            grad = null;
        }
    }

    /**
     * Adds {@code g} to the gradient, taking ownership of {@code g}. A leaf's gradient lives outside
     * any scope, until {@link #zeroGrad}: backward passes in successive per-step scopes then
     * accumulate into it (gradient accumulation over micro-batches).
     */
    void accumulate(Tensor g) {
        if (node != null) {
            if (grad == null) {
                grad = g;
            } else {
                Tensor sum = dev.qlora4j.engine.Ops.add(grad, g);
                grad.close();
                g.close();
                grad = sum;
            }
            return;
        }
        try (g) {
            Tensor old = grad;
            grad = dev.qlora4j.engine.Scope.unscoped(() -> old == null
                    ? dev.qlora4j.engine.Ops.cast(g, dev.qlora4j.engine.DType.F32) : dev.qlora4j.engine.Ops.add(old, g));
            if (old != null) {
                old.close();
            }
        }
    }

    @Override
    public String toString() {
        return "Var(" + value.describe() + (requiresGrad ? ", requires grad" : "") + (node != null ? ", from " + node.name() : "") + ")";
    }
}
