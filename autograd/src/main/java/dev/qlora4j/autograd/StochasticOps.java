package dev.qlora4j.autograd;

import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Tensor;

import java.util.SplittableRandom;

/**
 * Dropout (inverted, as torch's: kept values scaled by 1/(1-p)) and GELU in its tanh form.
 * Backward of dropout: dy through the same mask and scale. Backward of GELU-tanh, with
 * {@code u = √(2/π)(x + 0.044715x³)} and {@code t = tanh u}:
 * {@code dy · (0.5(1 + t) + 0.5x(1 - t²)√(2/π)(1 + 3·0.044715x²))}.
 */
final class StochasticOps {
    private static final double C = Math.sqrt(2 / Math.PI);
    private static final double K = 0.044715;

    private StochasticOps() {
    }

    /** The identity when p = 0; callers skip it outside training. */
    static Var dropout(Var x, double p, long seed) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("dropout: p = " + p + "; expected 0 <= p < 1");
        }
        if (p == 0) {
            return x;
        }
        Tensor tx = x.value();
        SplittableRandom r = new SplittableRandom(seed);
        float[] mask = new float[(int) tx.numel()];
        float keep = (float) (1 / (1 - p));
        for (int i = 0; i < mask.length; i++) {
            mask[i] = r.nextDouble() < p ? 0f : keep;
        }
        Tensor m;
        try (Tensor host = Tensor.of(mask, tx.shape().dims())) {
            m = host.to(tx.device());
        }
        Tensor y = Ops.mul(tx, m);
        return Tape.output(y, new Node(x) {
            @Override
            String name() {
                return "dropout";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                return new Tensor[]{Ops.mul(dy, m)};
            }
        });
    }

    static Var geluTanh(Var x) {
        Tensor tx = x.value();
        float[] v;
        try (Tensor c = tx.contiguous()) {
            v = c.toFloatArray();
        }
        float[] out = new float[v.length];
        float[] slope = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            double xi = v[i];
            double t = StrictMath.tanh(C * (xi + K * xi * xi * xi));
            out[i] = (float) (0.5 * xi * (1 + t));
            slope[i] = (float) (0.5 * (1 + t) + 0.5 * xi * (1 - t * t) * C * (1 + 3 * K * xi * xi));
        }
        // Computed on the host in f64 and moved back: GELU is not on Llama's path, so it has no kernel.
        Tensor y;
        Tensor d;
        try (Tensor hy = Tensor.of(out, tx.shape().dims()); Tensor hd = Tensor.of(slope, tx.shape().dims())) {
            y = hy.to(tx.device());
            d = hd.to(tx.device());
        }
        return Tape.output(y, new Node(x) {
            @Override
            String name() {
                return "geluTanh";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                return new Tensor[]{Ops.mul(dy, d)};
            }
        });
    }
}
