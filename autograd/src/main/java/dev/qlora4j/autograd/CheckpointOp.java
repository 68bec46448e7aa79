package dev.qlora4j.autograd;

import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;

import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Activation checkpointing: {@code y = block(x)} computed without recording, so that of the block
 * only its input and output are kept; the backward runs the block again from the kept input, this
 * time recording on a tape of its own, and pushes the output's gradient through it. The parameters
 * the block reads get their gradients from that recomputation, as leaves always do; x gets its own.
 * The recomputation runs the same ops in the same order on the same values, so the gradients are
 * those of the unchecked block, bit for bit — the block must be deterministic for that (a dropout
 * mask drawn inside it must come from a seed fixed before the first run).
 */
final class CheckpointOp {
    private CheckpointOp() {
    }

    /**
     * @param parameters what the block may train (they make this op record when x itself needs no
     *                   gradient, as the first decoder layer's input does in LoRA training)
     */
    static Var apply(Var x, UnaryOperator<Var> block, List<Var> parameters) {
        Tensor y;
        // The block's intermediates die with this scope; only its output is kept.
        try (Scope s = Scope.open(); Tape.NoGrad off = Tape.noGrad()) {
            y = s.keep(block.apply(Var.leaf(x.value(), false)).value());
        }
        Var[] inputs = new Var[parameters.size() + 1];
        inputs[0] = x;
        for (int i = 0; i < parameters.size(); i++) {
            inputs[i + 1] = parameters.get(i);
        }
        return Tape.output(y, new Node(inputs) {
            @Override
            String name() {
                return "checkpoint";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                Var again = Var.leaf(x.value(), x.requiresGrad());
                // The recomputed intermediates and their gradients die with this scope; a leaf's
                // gradient (the parameters', and again's) lives outside scopes.
                try (Scope s = Scope.open()) {
                    Tape.backwardThrough(() -> block.apply(again), dy);
                }
                // The parameters accumulated their gradients themselves; x's is again's.
                Tensor[] grads = new Tensor[inputs.length];
                grads[0] = again.grad();
                return grads;
            }
        });
    }
}
