package dev.qlora4j.autograd;

import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.TrainingOps;

/**
 * SwiGLU, fused: {@code y = silu(gate)·up}, the Llama MLP's gate. Forward keeps nothing but its
 * inputs (silu(gate) is not kept, as the composed silu-then-mul kept it); backward, with s = σ(gate):
 * <pre>
 *   dup = dy·silu(gate)        dgate = dy·up·s·(1 + gate·(1 - s))
 * </pre>
 * computed in one pass, so that backward holds three tensors of the MLP's size (dy, dgate, dup)
 * where the composed ops held eight. Same values as silu then mul, bit for bit, in the forward.
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
                return TrainingOps.swigluBackward(gate.value(), up.value(), dy);
            }
        });
    }
}
