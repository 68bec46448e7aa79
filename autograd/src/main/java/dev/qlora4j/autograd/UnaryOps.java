package dev.qlora4j.autograd;

import dev.qlora4j.engine.BinaryOp;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.UnaryOp;

/**
 * Elementwise exp, log and SiLU. Backward, with y the output:
 * <pre>
 *   exp: dy·y     log: dy/x     silu: dy·σ(x)·(1 + x·(1 - σ(x)))
 * </pre>
 */
final class UnaryOps {
    private UnaryOps() {
    }

    static Var apply(UnaryOp op, Var x) {
        if (op != UnaryOp.EXP && op != UnaryOp.LOG && op != UnaryOp.SILU) {
            throw new UnsupportedOperationException("autograd: no gradient defined for " + op + "; expected EXP, LOG or SILU");
        }
        Tensor y = Ops.unary(op, x.value());
        return Tape.output(y, new Node(x) {
            @Override
            String name() {
                return op.name().toLowerCase();
            }

            @Override
            Tensor[] backward(Tensor dy) {
                Tensor tx = x.value();
                Tensor dx = switch (op) {
                    case EXP -> Ops.mul(dy, y);
                    case LOG -> Ops.div(dy, tx);
                    default -> {
                        try (Tensor s = Ops.unary(UnaryOp.SIGMOID, tx); Tensor oneMinusS = Ops.binary(BinaryOp.SUB, 1f, s);
                             Tensor t = Ops.mul(tx, oneMinusS); Tensor u = Ops.binary(BinaryOp.ADD, 1f, t);
                             Tensor local = Ops.mul(s, u)) {
                            yield Ops.mul(dy, local);
                        }
                    }
                };
                return new Tensor[]{dx};
            }
        });
    }
}
