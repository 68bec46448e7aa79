package dev.qlora4j.autograd;

import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.ReduceOp;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.UnaryOp;

/**
 * RMSNorm along the last axis (n elements): {@code y = x · r · w} with {@code r = 1/sqrt(mean(x²) + eps)}.
 * Backward, with {@code g = dy · w}:
 * <pre>
 *   dx = r · (g - x · r² · mean(g · x))      dw = Σ over rows of dy · x · r
 * </pre>
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
                try (Tensor sq = Ops.unary(UnaryOp.SQUARE, tx); Tensor ms = Ops.reduce(ReduceOp.MEAN, sq, -1, true);
                     Tensor mse = Ops.add(ms, eps);
                     Tensor r = Ops.unary(UnaryOp.RSQRT, mse); Tensor xr = Ops.mul(tx, r)) {
                    Tensor dx = null;
                    Tensor dw = null;
                    if (needs(0)) {
                        try (Tensor g = Ops.mul(dy, w.value()); Tensor gx = Ops.mul(g, tx);
                             Tensor m = Ops.reduce(ReduceOp.MEAN, gx, -1, true); Tensor r2 = Ops.mul(r, r);
                             Tensor c = Ops.mul(r2, m); Tensor xc = Ops.mul(tx, c); Tensor diff = Ops.sub(g, xc)) {
                            dx = Ops.mul(r, diff);
                        }
                    }
                    if (needs(1)) {
                        try (Tensor p = Ops.mul(dy, xr)) {
                            dw = Tape.sumTo(p, w.value().shape());
                        }
                    }
                    return new Tensor[]{dx, dw};
                }
            }
        });
    }
}
