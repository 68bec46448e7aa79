package dev.qlora4j.autograd;

import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.TrainingOps;

/**
 * SwiGLU, fused: {@code y = silu(gate)·up}, the Llama MLP's gate. Forward keeps nothing but its
 * inputs (silu(gate) is not kept, as the composed silu-then-mul kept it); backward, with s = σ(gate):
 * <pre>
 *   dup = dy·silu(gate)        dgate = dy·up·s·(1 + gate·(1 - s))
 * </pre>
 * computed in one pass with dgate written over dy, so that backward holds two tensors of the MLP's
 * size (dgate in dy's place, and dup) where the composed ops held eight. Same values as silu then
 * mul, bit for bit, in the forward.
 */
final class SwigluOp {
    private SwigluOp() {
    }

    static Var apply(Var gate, Var up) {
        Tensor y = TrainingOps.swiglu(gate.value(), up.value());
        return Tape.output(y, new Node(gate, up) {
            @Override
            String name() {
                return "swiglu";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                // dy is this op's to spend (the tape drops it next): dgate is written over it, through a
                // view of its storage — or over a copy, when dy is a strided view.
                Tensor dgate = dy.contiguous();
                return new Tensor[]{dgate, TrainingOps.swigluBackwardInPlace(gate.value(), up.value(), dgate)};
            }
        });
    }
}
