package dev.qlora4j.autograd;

import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Tensor;

/**
 * The LoRA linear op, first class: {@code y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ} with W frozen, A [r, in],
 * B [out, r] and scaling s. Shapes: x [..., in] (rows = every leading axis), y [..., out].
 *
 * <p>Backward, with h = x·Aᵀ:
 * <pre>
 *   dB = s · dyᵀ·h        dh = s · dy·B        dA = dhᵀ·x        dx = dy·W + dh·A
 * </pre>
 * It never forms dW, and never a buffer of W's size: the low-rank products are accumulated into
 * y and dx in place, and a quantized W is decoded tile by tile.
 */
final class LoraOp {
    private LoraOp() {
    }

    static Var apply(Var x, FrozenWeight w, Var a, Var b, float scaling) {
        Tensor tx = x.value();
        int in = w.shape().dim(1);
        int out = w.shape().dim(0);
        int r = a.value().dim(0);
        if (a.value().rank() != 2 || a.value().dim(1) != in || b.value().rank() != 2 || b.value().dim(0) != out
                || b.value().dim(1) != r || tx.dim(-1) != in) {
            throw new IllegalArgumentException("lora: x " + tx.describe() + ", W " + w.shape() + ", A " + a.value().describe()
                    + ", B " + b.value().describe() + "; expected x [..., " + in + "], A [r, " + in + "], B [" + out + ", r]");
        }
        Tensor y = w.forward(tx);
        Tensor h; // x·Aᵀ [..., r], kept for backward (it belongs to the current scope either way)
        try (Tensor at = a.value().transpose(0, 1)) {
            h = Ops.matmul(tx, at);
        }
        try (Tensor sh = Ops.scale(h, scaling); Tensor bt = b.value().transpose(0, 1);
             Tensor sh2 = sh.reshape(-1, r); Tensor y2 = y.reshape(-1, out)) {
            FrozenWeight.addProduct(sh2, bt, y2);
        }
        return Tape.output(y, new Node(x, a, b) {
            @Override
            String name() {
                return "lora";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                // s scales the [rows, r] products, never dy: a scaled copy of dy would be a buffer of y's size.
                try (h; Tensor dy2 = dy.reshape(-1, out);
                     Tensor h2 = h.reshape(-1, r); Tensor x2 = tx.reshape(-1, in);
                     Tensor dyb = Ops.matmul(dy2, b.value()); Tensor dh = Ops.scale(dyb, scaling)) {
                    Tensor dA = null;
                    Tensor dB = null;
                    Tensor dx = null;
                    if (needs(1)) {
                        try (Tensor dht = dh.transpose(0, 1)) {
                            dA = Ops.matmul(dht, x2);
                        }
                    }
                    if (needs(2)) {
                        try (Tensor dyt = dy2.transpose(0, 1); Tensor sh = Ops.scale(h2, scaling)) {
                            dB = Ops.matmul(dyt, sh);
                        }
                    }
                    if (needs(0)) {
                        dx = w.inputGradient(dy);
                        try (Tensor dx2 = dx.reshape(-1, in)) {
                            FrozenWeight.addProduct(dh, a.value(), dx2);
                        }
                    }
                    return new Tensor[]{dx, dA, dB};
                }
            }
        });
    }
}
