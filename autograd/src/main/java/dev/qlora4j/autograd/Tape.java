package dev.qlora4j.autograd;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The define-by-run tape of the current thread: ops record the Vars they produce, in creation
 * order, which is a topological order; {@link #backward} walks it in reverse, pushing gradients to
 * the inputs that require them and dropping each intermediate gradient once it has been used.
 */
public final class Tape {
    private static final ThreadLocal<List<Var>> RECORDED = ThreadLocal.withInitial(ArrayList::new);
    private static final ThreadLocal<int[]> NO_GRAD_DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    private Tape() {
    }

    /** A region opened by {@link #noGrad}; closing it cannot fail. */
    public interface NoGrad extends AutoCloseable {
        @Override
        void close();
    }

    /** Inside the returned region nothing is recorded (inference). Close it to leave. */
    public static NoGrad noGrad() {
        NO_GRAD_DEPTH.get()[0]++;
        return () -> NO_GRAD_DEPTH.get()[0]--;
    }

    /** Whether ops record for backward right now. */
    public static boolean recording() {
        return NO_GRAD_DEPTH.get()[0] == 0;
    }

    /**
     * The Var for an op's output: it requires a gradient (and the node is kept) when recording and
     * any input does.
     */
    static Var output(Tensor value, Node node) {
        boolean needs = false;
        for (Var v : node.inputs) {
            needs |= v.requiresGrad();
        }
        if (!needs || !recording()) {
            return new Var(value, false, null);
        }
        Var out = new Var(value, true, node);
        RECORDED.get().add(out);
        return out;
    }

    /**
     * Computes the gradient of the scalar {@code loss} with respect to every Var that requires one
     * and led to it, accumulating into their {@link Var#grad()}; then clears the tape.
     *
     * @throws IllegalArgumentException when the loss is not a single element or needs no gradient
     * @throws IllegalStateException    when the loss is NaN or infinite (the tape is cleared, nothing else changes)
     */
    public static void backward(Var loss) {
        if (loss.value().numel() != 1) {
            throw new IllegalArgumentException("backward: the loss is " + loss.value().describe()
                    + "; expected a single element");
        }
        float value = loss.value().getFlat(0);
        if (!Float.isFinite(value)) {
            RECORDED.get().clear();
            throw new IllegalStateException("backward: the loss is " + value + "; no gradient was computed and no "
                    + "weight changes, so the step can be skipped or the run stopped (lower the learning rate?)");
        }
        if (!loss.requiresGrad()) {
            throw new IllegalArgumentException("backward: the loss does not depend on anything that requires a gradient");
        }
        List<Var> tape = RECORDED.get();
        try {
            // The seed dL/dL = 1, filled where the loss is: no host tensor to copy to a device.
            Tensor one = Tensor.empty(DType.F32, loss.value().shape(), loss.value().device());
            Ops.fill(one, 1f);
            loss.accumulate(one);
            propagate(tape, false);
        } finally {
            tape.clear();
        }
    }

    /**
     * Runs {@code f} recording on a tape of its own — the current one set aside — and pushes
     * {@code seed}, the gradient of f's output, back through what it recorded: the leaves f reads
     * (parameters, an input given as a leaf) accumulate their gradients as in {@link #backward}.
     * Checkpointing's backward, which runs inside the outer backward. {@code seed} stays the caller's.
     * What f recorded is f's own, so each output is released as soon as its op's backward has run —
     * the ops that read it come later on the tape and have run before — which lowers the peak of a
     * recomputed block by the outputs its backward has passed (in a decoder layer's SwiGLU: the layer's
     * output, down_proj's and the SwiGLU product).
     */
    static void backwardThrough(java.util.function.Supplier<Var> f, Tensor seed) {
        List<Var> outer = RECORDED.get();
        List<Var> own = new ArrayList<>();
        RECORDED.set(own);
        try {
            Var out = f.get();
            if (out.requiresGrad()) {
                out.accumulate(Ops.cast(seed, DType.F32));
                propagate(own, true);
            }
        } finally {
            own.clear();
            RECORDED.set(outer);
        }
    }

    /**
     * Walks a tape newest first, pushing each recorded Var's gradient to the inputs that require one;
     * with {@code release}, closing each Var's value once its op's backward has run.
     */
    private static void propagate(List<Var> tape, boolean release) {
        for (int i = tape.size() - 1; i >= 0; i--) {
            Var v = tape.get(i);
            Tensor g = v.grad();
            if (g == null) {
                continue;
            }
            Tensor[] grads = v.node.backward(g);
            for (int j = 0; j < grads.length; j++) {
                if (grads[j] != null && v.node.inputs[j].requiresGrad()) {
                    v.node.inputs[j].accumulate(grads[j]);
                } else if (grads[j] != null) {
                    grads[j].close();
                }
            }
            v.zeroGrad(); // an intermediate's gradient is spent once pushed to its inputs
            if (release) {
                v.value().close();
            }
        }
    }

    /** A new tensor: {@code g} summed down to {@code shape}, undoing NumPy broadcasting (a copy when it fits). */
    static Tensor sumTo(Tensor g, dev.qlora4j.engine.Shape shape) {
        if (g.shape().equals(shape)) {
            return Ops.cast(g, DType.F32);
        }
        Tensor t = g;
        while (t.rank() > shape.rank()) {
            Tensor s = Ops.reduce(dev.qlora4j.engine.ReduceOp.SUM, t, 0, false);
            if (t != g) {
                t.close();
            }
            t = s;
        }
        for (int d = 0; d < shape.rank(); d++) {
            if (shape.dim(d) == 1 && t.dim(d) != 1) {
                Tensor s = Ops.reduce(dev.qlora4j.engine.ReduceOp.SUM, t, d, true);
                if (t != g) {
                    t.close();
                }
                t = s;
            }
        }
        return t;
    }
}
