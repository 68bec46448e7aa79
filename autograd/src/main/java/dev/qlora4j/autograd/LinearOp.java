package dev.qlora4j.autograd;

import dev.qlora4j.engine.Tensor;

/** {@code y = x·Wᵀ} with W frozen. Backward: {@code dx = dy·W}; W gets no gradient. */
final class LinearOp {
    private LinearOp() {
    }

    static Var apply(Var x, FrozenWeight w) {
        Tensor y = w.forward(x.value());
        return Tape.output(y, new Node(x) {
            @Override
            String name() {
                return "linear";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                return new Tensor[]{w.inputGradient(dy)};
            }
        });
    }
}
