package dev.qlora4j.autograd;

import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.ReduceOp;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.UnaryOp;

/**
 * Softmax and log-softmax along the last axis. Backward, with y the output:
 * <pre>
 *   softmax:     dx = y · (dy - Σ(dy·y))
 *   log-softmax: dx = dy - exp(y) · Σ dy
 * </pre>
 * (sums along the last axis, kept for broadcasting).
 */
final class SoftmaxOps {
    private SoftmaxOps() {
    }

    static Var apply(Var x, boolean log) {
        Tensor y = log ? Ops.logSoftmax(x.value()) : Ops.softmax(x.value());
        return Tape.output(y, new Node(x) {
            @Override
            String name() {
                return log ? "logSoftmax" : "softmax";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                if (log) {
                    try (Tensor p = Ops.unary(UnaryOp.EXP, y); Tensor s = Ops.reduce(ReduceOp.SUM, dy, -1, true);
                         Tensor ps = Ops.mul(p, s)) {
                        return new Tensor[]{Ops.sub(dy, ps)};
                    }
                }
                try (Tensor dyy = Ops.mul(dy, y); Tensor s = Ops.reduce(ReduceOp.SUM, dyy, -1, true);
                     Tensor centred = Ops.sub(dy, s)) {
                    return new Tensor[]{Ops.mul(y, centred)};
                }
            }
        });
    }
}
