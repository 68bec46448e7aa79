package dev.qlora4j.autograd;

import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.DeviceConstants;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.TrainingOps;

import java.util.List;

/**
 * Rotary position embedding in Hugging Face's rotate-half form, on x [B, H, T, hd] for positions
 * {@code offset + t}: with the inverse frequencies of a {@link Rotary} (plain: {@code theta^(-2i/hd)})
 * and angle {@code a = pos·inv_freq[i mod hd/2]},
 * <pre>
 *   y = x·cos(a) + rotate_half(x)·sin(a),   rotate_half(x) = [-x2, x1]   (x1, x2 the two halves)
 * </pre>
 * Backward is the inverse rotation: {@code dx = dy·cos + [dy2·sin, -dy1·sin]} (the transpose of rotate_half).
 */
final class RopeOp {
    private RopeOp() {
    }

    /** cos and sin tables [T, hd] (each half repeated), computed in f64 and rounded once. */
    static float[][] tables(int t, int hd, int offset, Rotary rotary) {
        float[] cos = new float[t * hd];
        float[] sin = new float[t * hd];
        int half = hd / 2;
        // A length-dependent scaling (dynamic NTK) sees the whole sequence, as transformers' does.
        double[] invFreq = rotary.inverseFrequencies(hd, offset + t);
        for (int p = 0; p < t; p++) {
            for (int i = 0; i < half; i++) {
                double a = (offset + p) * invFreq[i];
                cos[p * hd + i] = cos[p * hd + i + half] = (float) Math.cos(a);
                sin[p * hd + i] = sin[p * hd + i + half] = (float) Math.sin(a);
            }
        }
        return new float[][]{cos, sin};
    }

    /** The tables as one host tensor [2, T, hd]: cos, then sin. */
    private static Tensor cosAndSin(int t, int hd, int offset, Rotary rotary) {
        float[][] cs = tables(t, hd, offset, rotary);
        float[] both = java.util.Arrays.copyOf(cs[0], 2 * cs[0].length);
        System.arraycopy(cs[1], 0, both, cs[0].length, cs[1].length);
        return Tensor.of(both, 2, t, hd);
    }

    static Var apply(Var x, int offset, Rotary rotary) {
        Tensor tx = x.value();
        if (tx.rank() != 4 || tx.dim(3) % 2 != 0) {
            throw new IllegalArgumentException("rope: " + tx.describe() + "; expected [batch, heads, tokens, even head dim]");
        }
        int t = tx.dim(2);
        int hd = tx.dim(3);
        Device device = tx.device();
        // The same tables serve every layer and step: on a GPU they are copied there once. An angle
        // depends only on its position (save dynamic NTK past the trained length), so there one table
        // for positions [0, capacity), capacity a power of two, serves every window inside it:
        // generation, which asks for one more position per token, keeps a handful of tables, not one
        // per length. The CPU builds its tables per use, at the exact length.
        int end = offset + t;
        int capacity = end > 1 << 30 ? end : Math.max(16, Integer.highestOneBit(Math.max(1, end - 1)) << 1);
        boolean shared = end <= 1 << 30 && DeviceConstants.keepsTables(device)
                && (!rotary.dependsOnLength() || capacity <= rotary.originalMaxPositions());
        int rows = shared ? capacity : t;
        int first = shared ? offset : 0;
        List<Object> key = shared ? List.of("rope", capacity, hd, rotary) : List.of("rope", t, hd, offset, rotary);
        Tensor cos;
        Tensor sin;
        try (Tensor both = DeviceConstants.on(device, key,
                () -> shared ? cosAndSin(capacity, hd, 0, rotary) : cosAndSin(t, hd, offset, rotary));
             Tensor c = both.slice(0, 0, 1); Tensor s = both.slice(0, 1, 2);
             Tensor allCos = c.reshape(rows, hd); Tensor allSin = s.reshape(rows, hd)) {
            cos = allCos.slice(0, first, first + t);
            sin = allSin.slice(0, first, first + t);
        }
        Tensor y = rotate(tx, cos, sin, false);
        return Tape.output(y, new Node(x) {
            @Override
            String name() {
                return "rope";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                return new Tensor[]{rotate(dy, cos, sin, true)};
            }
        });
    }

    /** y = x·cos + R(x)·sin with R = rotate_half, or with R's transpose when {@code inverse}. */
    private static Tensor rotate(Tensor x, Tensor cos, Tensor sin, boolean inverse) {
        return TrainingOps.rope(x, cos, sin, inverse);
    }
}
