package dev.qlora4j.autograd;

import dev.qlora4j.engine.BinaryOp;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.ReduceOp;
import dev.qlora4j.engine.Tensor;

/**
 * Sum and mean along one axis (kept as size 1 or removed), or over everything. Backward: dy spread
 * back over the reduced axis (divided by its length for the mean).
 */
final class ReduceOps {
    private ReduceOps() {
    }

    static Var apply(ReduceOp op, Var x, int axis, boolean keepDim) {
        if (op != ReduceOp.SUM && op != ReduceOp.MEAN) {
            throw new UnsupportedOperationException("autograd: no gradient defined for " + op + "; expected SUM or MEAN");
        }
        Tensor tx = x.value();
        int ax = tx.shape().normalizeAxis(axis);
        Tensor y = Ops.reduce(op, tx, ax, keepDim);
        return Tape.output(y, new Node(x) {
            @Override
            String name() {
                return op.name().toLowerCase();
            }

            @Override
            Tensor[] backward(Tensor dy) {
                int[] kept = tx.shape().dims();
                kept[ax] = 1;
                try (Tensor dk = dy.reshape(kept); Tensor zeros = Tensor.zeros(DType.F32, tx.shape(), tx.device());
                     Tensor spread = Ops.add(zeros, dk)) {
                    if (op == ReduceOp.SUM) {
                        return new Tensor[]{Ops.cast(spread, DType.F32)};
                    }
                    return new Tensor[]{Ops.binary(BinaryOp.DIV, spread, tx.dim(ax))};
                }
            }
        });
    }

    /** Sum (or mean) of every element, as a tensor of shape [1]. */
    static Var all(ReduceOp op, Var x) {
        return apply(op, ViewOps.reshape(x, 1, -1), 1, false);
    }
}
