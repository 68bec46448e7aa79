package dev.qlora4j.autograd;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Activation checkpointing of a chain of blocks, {@code y = block(n-1)(… block(0)(x))}, computed
 * without recording, so that of the chain only each block's input is kept; the backward walks the
 * blocks last to first, runs each again from its kept input, this time recording on a tape of its
 * own, and pushes the gradient of its output through it. The parameters the blocks read get their
 * gradients from those recomputations, as leaves always do; x gets its own. The recomputation runs
 * the same ops in the same order on the same values, so the gradients are those of the unchecked
 * chain, bit for bit — each block must be deterministic for that (a dropout mask drawn inside it must
 * come from a seed fixed before the first run).
 *
 * <p>The kept inputs may live on another device than the blocks compute on — host memory under a
 * GPU — so that the device holds one block's input at a time: each is copied there after the block
 * has read it, and back before the block is recomputed. Copies do not change values. They may also be
 * kept in BF16, half the bytes: the forward still runs on the F32 values, and the recomputation starts
 * from the rounded ones, so the gradients are those of the chain at inputs off by a BF16 rounding.
 */
final class CheckpointOp {
    private CheckpointOp() {
    }

    /**
     * @param parameters what the blocks may train (they make this op record when x itself needs no
     *                   gradient, as the first decoder layer's input does in LoRA training)
     * @param keepOn     where the blocks' inputs are kept between forward and backward
     * @param keepAs     the dtype they are kept in: F32, or BF16
     */
    static Var apply(Var x, int blocks, F.Block block, List<Var> parameters, Device keepOn, DType keepAs) {
        if (blocks < 1) {
            throw new IllegalArgumentException("checkpoint: " + blocks + " blocks; expected at least 1 (a model with no layers"
                    + " has nothing to checkpoint)");
        }
        if (keepAs != DType.F32 && keepAs != DType.BF16) {
            throw new IllegalArgumentException("checkpoint: inputs kept as " + keepAs + "; expected F32 or BF16");
        }
        Device device = x.value().device();
        // Kept elsewhere or in another dtype, an input is a copy of the chain's, which can then go.
        boolean moved = !keepOn.equals(device) || keepAs != x.value().dtype();
        List<Tensor> kept = new ArrayList<>(blocks);
        Tensor in = x.value();
        for (int i = 0; i < blocks; i++) {
            Tensor out;
            // The block's intermediates die with this scope; only its output is kept.
            try (Scope s = Scope.open(); Tape.NoGrad off = Tape.noGrad()) {
                out = s.keep(block.apply(i, Var.leaf(in, false)).value());
            }
            if (moved) {
                try (Tensor converted = Ops.cast(in, keepAs)) {
                    kept.add(converted.to(keepOn));
                }
                if (i > 0) {
                    in.close();   // an output of this chain, now held as its copy only
                }
            } else {
                kept.add(in);
            }
            in = out;
        }
        Tensor y = in;
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
                Tensor grad = dy;
                for (int i = blocks - 1; i >= 0; i--) {
                    int index = i;
                    Tensor input = kept.get(i);
                    Var again = Var.leaf(moved ? restored(input, device) : input, i > 0 || x.requiresGrad());
                    Tensor seed = grad;
                    // The recomputed intermediates and their gradients die with this scope; a leaf's
                    // gradient (the parameters', and again's) lives outside scopes.
                    try (Scope s = Scope.open()) {
                        Tape.backwardThrough(() -> block.apply(index, again), seed);
                    }
                    if (moved) {
                        again.value().close();
                    }
                    if (i > 0 || moved) {
                        input.close();   // a chain output, or a copy in keepOn's memory: spent
                    }
                    if (grad != dy) {
                        grad.close();
                    }
                    grad = again.grad();
                }
                // The parameters accumulated their gradients themselves; x's is the first block's input's.
                Tensor[] grads = new Tensor[inputs.length];
                grads[0] = grad;
                return grads;
            }
        });
    }

    /** A kept input as the blocks read it: F32, on their device. */
    private static Tensor restored(Tensor kept, Device device) {
        try (Tensor there = kept.to(device)) {
            return Ops.cast(there, DType.F32);
        }
    }
}
