package dev.qlora4j.autograd;

import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Tensor;

/**
 * {@code y = a · b} over the last two axes ({@link Ops#matmul}: batched, or b 2-D and shared).
 * Backward: {@code da = dy · bᵀ}, {@code db = aᵀ · dy} (summed over the batch when b is shared).
 */
final class MatMulOp {
    private MatMulOp() {
    }

    static Var apply(Var a, Var b) {
        Tensor y = Ops.matmul(a.value(), b.value());
        return Tape.output(y, new Node(a, b) {
            @Override
            String name() {
                return "matmul";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                Tensor ta = a.value();
                Tensor tb = b.value();
                Tensor da = null;
                Tensor db = null;
                if (needs(0)) {
                    try (Tensor bt = tb.transpose(-1, -2)) {
                        da = Ops.matmul(dy, bt);
                    }
                }
                if (needs(1)) {
                    if (tb.rank() == 2 && ta.rank() > 2) {
                        // A shared weight: fold the batch into rows, aᵀ·dy then sums over it.
                        try (Tensor a2 = ta.reshape(-1, ta.dim(-1)); Tensor at = a2.transpose(0, 1);
                             Tensor d2 = dy.reshape(-1, dy.dim(-1))) {
                            db = Ops.matmul(at, d2);
                        }
                    } else {
                        try (Tensor at = ta.transpose(-1, -2)) {
                            db = Ops.matmul(at, dy);
                        }
                    }
                }
                return new Tensor[]{da, db};
            }
        });
    }
}
