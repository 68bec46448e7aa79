package dev.qlora4j.autograd;

import dev.qlora4j.engine.BinaryOp;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.UnaryOp;

/**
 * Elementwise add, sub, mul and div with broadcasting, and scaling by a number. Backward: the local derivatives times dy,
 * summed back to each input's shape ({@link Tape#sumTo}).
 * <pre>
 *   add: (dy, dy)   sub: (dy, -dy)   mul: (dy·b, dy·a)   div: (dy/b, -dy·a/b²)
 * </pre>
 */
final class BinaryOps {
    private BinaryOps() {
    }

    static Var apply(BinaryOp op, Var a, Var b) {
        Tensor y = Ops.binary(op, a.value(), b.value());
        return Tape.output(y, new Node(a, b) {
            @Override
            String name() {
                return op.name().toLowerCase();
            }

            @Override
            Tensor[] backward(Tensor dy) {
                Tensor ta = a.value();
                Tensor tb = b.value();
                Tensor da = null;
                Tensor db = null;
                if (needs(0)) {
                    da = switch (op) {
                        case ADD, SUB -> Tape.sumTo(dy, ta.shape());
                        case MUL -> reduced(Ops.mul(dy, tb), ta);
                        case DIV -> reduced(Ops.div(dy, tb), ta);
                        default -> throw new UnsupportedOperationException("no gradient for " + op);
                    };
                }
                if (needs(1)) {
                    db = switch (op) {
                        case ADD -> Tape.sumTo(dy, tb.shape());
                        case SUB -> reduced(Ops.unary(UnaryOp.NEG, dy), tb);
                        case MUL -> reduced(Ops.mul(dy, ta), tb);
                        case DIV -> {
                            // -dy·a/b² = -(dy·y)/b, with y = a/b the output.
                            try (Tensor q = Ops.div(ta, tb); Tensor dq = Ops.mul(dy, q); Tensor r = Ops.div(dq, tb)) {
                                yield reduced(Ops.unary(UnaryOp.NEG, r), tb);
                            }
                        }
                        default -> throw new UnsupportedOperationException("no gradient for " + op);
                    };
                }
                return new Tensor[]{da, db};
            }
        });
    }

    /** {@code s · x} for a number s (a LoRA scale, 1/√d). Backward: {@code s · dy}. */
    static Var scale(Var x, float s) {
        Tensor y = Ops.scale(x.value(), s);
        return Tape.output(y, new Node(x) {
            @Override
            String name() {
                return "scale";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                return new Tensor[]{Ops.scale(dy, s)};
            }
        });
    }

    /** t summed to the shape of {@code like}, closing t. */
    private static Tensor reduced(Tensor t, Tensor like) {
        try (t) {
            return Tape.sumTo(t, like.shape());
        }
    }
}
