package dev.qlora4j.autograd;

import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.ReduceOp;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.TrainingOps;
import dev.qlora4j.engine.UnaryOp;

/**
 * RMSNorm along the last axis (n elements): {@code y = x · r · w} with {@code r = 1/sqrt(mean(x²) + eps)}.
 * Backward, with {@code g = dy · w}:
 * <pre>
 *   dx = r · (g - x · r² · mean(g · x))      dw = Σ over rows of dy · x · r
 * </pre>
 * dx in one fused pass over each row ({@link TrainingOps#rmsNormBackward}), which makes no tensor
 * but dx where the composed ops made six of x's size.
 */
final class RmsNormOp {
    private RmsNormOp() {
    }

    static Var apply(Var x, Var w, float eps) {
        Tensor y = Ops.rmsNorm(x.value(), w.value(), eps);
        return Tape.output(y, new Node(x, w) {
            @Override
            String name() {
                return "rmsNorm";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                Tensor tx = x.value();
                Tensor dx = needs(0) ? TrainingOps.rmsNormBackward(tx, w.value(), dy, eps) : null;
                Tensor dw = null;
                if (needs(1)) {
                    // Only a trained norm weight (full fine-tuning) needs this: the composed ops serve.
                    try (Tensor sq = Ops.unary(UnaryOp.SQUARE, tx); Tensor ms = Ops.reduce(ReduceOp.MEAN, sq, -1, true);
                         Tensor mse = Ops.add(ms, eps); Tensor r = Ops.unary(UnaryOp.RSQRT, mse); Tensor xr = Ops.mul(tx, r);
                         Tensor p = Ops.mul(dy, xr)) {
                        dw = Tape.sumTo(p, w.value().shape());
                    }
                }
                return new Tensor[]{dx, dw};
            }
        });
    }
}
