package dev.qlora4j.engine;

import java.util.Arrays;

/**
 * The pieces of a training step that are not general tensor math: rotary embedding, the fused
 * SwiGLU and its backward, RMSNorm's backward, embedding gather and scatter-add, the causal mask, cross-entropy's two halves and the AdamW update. Like
 * {@link Ops}, each checks its arguments with a message naming the operation before it reaches the
 * device's backend; inputs may be views (they are made contiguous here), results are contiguous F32.
 */
public final class TrainingOps {
    private TrainingOps() {
    }

    /**
     * Rotary position embedding of {@code x [..., t, hd]} with tables {@code cos, sin [t, hd]}:
     * {@code x·cos + rotate_half(x)·sin}, rotate_half(x) = [-x2, x1]; with {@code inverse}, the
     * transposed rotation, which is the backward.
     */
    public static Tensor rope(Tensor x, Tensor cos, Tensor sin, boolean inverse) {
        Device d = Ops.sameDevice("rope", x, cos);
        Ops.sameDevice("rope", x, sin);
        Ops.f32Input("rope", x);
        Ops.f32Input("rope", cos);
        Ops.f32Input("rope", sin);
        if (x.rank() < 2 || x.dim(-1) % 2 != 0 || cos.rank() != 2 || !cos.shape().equals(sin.shape())
                || cos.dim(0) != x.dim(-2) || cos.dim(1) != x.dim(-1)) {
            throw new IllegalArgumentException("rope of " + x.describe() + " with tables " + cos.describe() + ", "
                    + sin.describe() + ": expected x [..., t, even hd] and cos, sin [t, hd]");
        }
        Tensor out = Tensor.empty(DType.F32, x.shape(), d);
        try (Tensor xc = x.contiguous(); Tensor cc = cos.contiguous(); Tensor sc = sin.contiguous()) {
            Backends.of(d).rope(xc, cc, sc, inverse, out);
        }
        return out;
    }

    /**
     * SwiGLU, the Llama MLP's gate: {@code silu(gate)·up} for F32 tensors of one shape, in one pass,
     * so that neither silu(gate) nor any other intermediate of the size of the MLP is made.
     */
    public static Tensor swiglu(Tensor gate, Tensor up) {
        Device d = checkSwiglu("swiglu", gate, up, null);
        Tensor out = Tensor.empty(DType.F32, gate.shape(), d);
        try (Tensor g = gate.contiguous(); Tensor u = up.contiguous()) {
            Backends.of(d).swiglu(g, u, out);
        }
        return out;
    }

    /**
     * {@link #swiglu}'s backward for the output's gradient dy, in one pass that overwrites dy with the
     * gradient of gate and returns the gradient of up: a backward that owns dy (autograd's, which drops
     * it next) thus holds two tensors of the MLP's size where it would hold three.
     *
     * @throws IllegalArgumentException when dy is not contiguous (it is written in place)
     */
    public static Tensor swigluBackwardInPlace(Tensor gate, Tensor up, Tensor dy) {
        Device d = checkSwiglu("swigluBackwardInPlace", gate, up, dy);
        if (!dy.isContiguous()) {
            throw new IllegalArgumentException("swigluBackwardInPlace: dy " + dy.describe() + " is a strided view; expected a"
                    + " contiguous tensor to overwrite with the gradient of gate");
        }
        Tensor dup = Tensor.empty(DType.F32, gate.shape(), d);
        try (Tensor g = gate.contiguous(); Tensor u = up.contiguous()) {
            Backends.of(d).swigluBackward(g, u, dy, dy, dup);
        }
        return dup;
    }

    private static Device checkSwiglu(String op, Tensor gate, Tensor up, Tensor dy) {
        Device d = Ops.sameDevice(op, gate, up);
        Ops.f32Input(op, gate);
        Ops.f32Input(op, up);
        if (dy != null) {
            Ops.sameDevice(op, gate, dy);
            Ops.f32Input(op, dy);
        }
        if (!gate.shape().equals(up.shape()) || dy != null && !dy.shape().equals(gate.shape())) {
            throw new IllegalArgumentException(op + ": gate " + gate.describe() + ", up " + up.describe()
                    + (dy != null ? ", dy " + dy.describe() : "") + "; expected tensors of one shape");
        }
        return d;
    }

    /**
     * {@link Ops#rmsNorm}'s input gradient for the output's gradient dy, in one pass over each row:
     * {@code dx = r·(dy·w − x·r²·mean(dy·w·x))} with {@code r = 1/sqrt(mean(x²) + eps)} along the last
     * axis, making no tensor but dx.
     */
    public static Tensor rmsNormBackward(Tensor x, Tensor weight, Tensor dy, float eps) {
        Device d = Ops.sameDevice("rmsNormBackward", x, weight);
        Ops.sameDevice("rmsNormBackward", x, dy);
        Ops.f32Input("rmsNormBackward", x);
        Ops.f32Input("rmsNormBackward", weight);
        Ops.f32Input("rmsNormBackward", dy);
        if (x.rank() == 0 || weight.rank() != 1 || weight.dim(0) != x.dim(-1) || !dy.shape().equals(x.shape())) {
            throw new IllegalArgumentException("rmsNormBackward: x " + x.describe() + ", weight " + weight.describe() + ", dy "
                    + dy.describe() + "; expected weight [" + (x.rank() == 0 ? "?" : x.dim(-1)) + "] and dy of x's shape");
        }
        if (!(eps >= 0)) {
            throw new IllegalArgumentException("rmsNormBackward: eps " + eps + ", expected >= 0");
        }
        Tensor dx = Tensor.empty(DType.F32, x.shape(), d);
        try (Tensor xc = x.contiguous(); Tensor wc = weight.contiguous(); Tensor dc = dy.contiguous()) {
            Backends.of(d).rmsNormBackward(xc, wc, dc, eps, dx);
        }
        return dx;
    }

    /** The output of {@link #causalAttention} and what its backward needs besides the inputs. */
    public record Attention(Tensor out, Tensor lse) implements AutoCloseable {
        @Override
        public void close() {
            out.close();
            lse.close();
        }
    }

    /**
     * Fused causal self-attention with grouped-query heads: {@code softmax(scale·q·kᵀ)·v} with each
     * query attending to its own and earlier positions, for q {@code [B, H, T, d]} and k, v
     * {@code [B, G, T, d]}, H a multiple of G (query head h reads key/value head h / (H/G), as
     * Hugging Face's repeat_kv). Returns the output {@code [B, H, T, d]} and each query row's
     * log-sum-exp {@code [B, H, T]}; no T×T tensor and no repeated key/value head is made.
     */
    public static Attention causalAttention(Tensor q, Tensor k, Tensor v, float scale) {
        Device d = checkAttention("causalAttention", q, k, v);
        if (!(scale > 0) || !Float.isFinite(scale)) {
            throw new IllegalArgumentException("causalAttention: scale " + scale + "; expected a finite number > 0");
        }
        Tensor out = Tensor.empty(DType.F32, q.shape(), d);
        Tensor lse = Tensor.empty(DType.F32, Shape.of(q.dim(0), q.dim(1), q.dim(2)), d);
        try (Tensor qc = q.contiguous(); Tensor kc = k.contiguous(); Tensor vc = v.contiguous()) {
            Backends.of(d).causalAttention(qc, kc, vc, scale, out, lse);
        } catch (RuntimeException e) {
            out.close();
            lse.close();
            throw e;
        }
        return new Attention(out, lse);
    }

    /**
     * The backward of {@link #causalAttention}: {@code {dq, dk, dv}} from its inputs, its result and
     * the gradient of the output; the attention probabilities are recomputed from the log-sum-exp.
     */
    public static Tensor[] causalAttentionBackward(Tensor q, Tensor k, Tensor v, Attention forward, Tensor dout, float scale) {
        Device d = checkAttention("causalAttentionBackward", q, k, v);
        Ops.sameDevice("causalAttentionBackward", q, dout);
        Ops.f32Input("causalAttentionBackward", dout);
        if (!dout.shape().equals(q.shape()) || !forward.out().shape().equals(q.shape())
                || !forward.lse().shape().equals(Shape.of(q.dim(0), q.dim(1), q.dim(2)))) {
            throw new IllegalArgumentException("causalAttentionBackward: q " + q.describe() + ", out " + forward.out().describe()
                    + ", lse " + forward.lse().describe() + ", dout " + dout.describe()
                    + "; expected out and dout shaped as q and lse [B, H, T]");
        }
        Tensor dq = Tensor.empty(DType.F32, q.shape(), d);
        Tensor dk = Tensor.empty(DType.F32, k.shape(), d);
        Tensor dv = Tensor.empty(DType.F32, v.shape(), d);
        try (Tensor qc = q.contiguous(); Tensor kc = k.contiguous(); Tensor vc = v.contiguous();
             Tensor oc = forward.out().contiguous(); Tensor lc = forward.lse().contiguous(); Tensor gc = dout.contiguous()) {
            Backends.of(d).causalAttentionBackward(qc, kc, vc, oc, lc, gc, scale, dq, dk, dv);
        } catch (RuntimeException e) {
            dq.close();
            dk.close();
            dv.close();
            throw e;
        }
        return new Tensor[]{dq, dk, dv};
    }

    private static Device checkAttention(String op, Tensor q, Tensor k, Tensor v) {
        Device d = Ops.sameDevice(op, q, k);
        Ops.sameDevice(op, q, v);
        Ops.f32Input(op, q);
        Ops.f32Input(op, k);
        Ops.f32Input(op, v);
        if (q.rank() != 4 || k.rank() != 4 || !k.shape().equals(v.shape()) || k.dim(0) != q.dim(0) || k.dim(2) != q.dim(2)
                || k.dim(3) != q.dim(3) || k.dim(1) == 0 || q.dim(1) % k.dim(1) != 0) {
            throw new IllegalArgumentException(op + ": q " + q.describe() + ", k " + k.describe() + ", v " + v.describe()
                    + "; expected q [B, H, T, d] and k, v [B, G, T, d] with H a multiple of G");
        }
        return d;
    }

    /**
     * {@code out[..., :] = table[ids[...], :]}: the rows of an F32 or BF16 table {@code [vocab, d]},
     * as F32, picked by indices of any shape checked against {@code vocab}, on the table's device.
     */
    public static Tensor embedding(Tensor table, Indices ids) {
        Device d = checkTable("embedding", table, ids, true);
        int[] outDims = Arrays.copyOf(ids.tensor().shape().dims(), ids.tensor().rank() + 1);
        outDims[ids.tensor().rank()] = table.dim(1);
        Tensor out = Tensor.empty(DType.F32, Shape.of(outDims), d);
        try (Tensor tc = table.contiguous(); Tensor ic = ids.tensor().contiguous()) {
            Backends.of(d).embedding(tc, ic, out);
        }
        return out;
    }

    /**
     * The embedding's backward, in place: {@code grad[ids[i], :] += dy[i, :]}, a scatter-add in which
     * repeated ids accumulate; {@code grad} is a contiguous F32 {@code [vocab, d]}.
     */
    public static void embeddingBackward(Tensor dy, Indices ids, Tensor grad) {
        Device d = checkTable("embeddingBackward", grad, ids, false);
        Ops.sameDevice("embeddingBackward", dy, grad);
        Ops.f32Input("embeddingBackward", dy);
        if (!grad.isContiguous() || dy.numel() != ids.tensor().numel() * grad.dim(1)) {
            throw new IllegalArgumentException("embeddingBackward of " + dy.describe() + " into " + grad.describe()
                    + " at ids " + ids.tensor().describe() + ": expected dy [..., " + grad.dim(1)
                    + "] with one row per id, and a contiguous grad");
        }
        try (Tensor dc = dy.contiguous(); Tensor ic = ids.tensor().contiguous()) {
            Backends.of(d).embeddingBackward(dc, ic, grad);
        }
    }

    /** @param bf16Allowed whether the table may be BF16 (a frozen one read by the forward) besides F32 */
    private static Device checkTable(String op, Tensor table, Indices ids, boolean bf16Allowed) {
        Device d = Ops.sameDevice(op, table, ids.tensor());
        table.checkOpen(op);
        if (!(bf16Allowed && table.dtype() == DType.BF16)) {
            Ops.f32Input(op, table);
        }
        if (table.rank() != 2 || ids.bound() != table.dim(0) || ids.ignored() != Indices.NONE_IGNORED) {
            throw new IllegalArgumentException(op + ": table " + table.describe() + " with ids checked against "
                    + ids.bound() + (ids.ignored() != Indices.NONE_IGNORED ? " ignoring " + ids.ignored() : "")
                    + "; expected a table [vocab, d] and ids checked against vocab, none ignored");
        }
        return d;
    }

    /**
     * A contiguous F32 copy of {@code s [..., T, T]} whose entries above each matrix's diagonal are
     * {@code value}: the causal mask (-∞ before a softmax, 0 for its backward).
     */
    public static Tensor fillAboveDiagonal(Tensor s, float value) {
        s.checkOpen("fillAboveDiagonal");
        if (s.rank() < 2 || s.dim(-1) != s.dim(-2)) {
            throw new IllegalArgumentException("fillAboveDiagonal of " + s.describe() + ": expected [..., T, T]");
        }
        Tensor out = Ops.cast(s, DType.F32);
        Backends.of(out.device()).fillAboveDiagonal(out, value);
        return out;
    }

    /**
     * {@code out[i] = lsm[i, targets[i]]}, 0 where the target is the ignored index: the picked
     * log-probabilities of a log-softmax {@code [n, v]} at targets {@code [n]} checked against v.
     */
    public static Tensor pickTargets(Tensor lsm, Indices targets) {
        Device d = checkTargets("pickTargets", lsm, targets);
        Tensor out = Tensor.empty(DType.F32, Shape.of(lsm.dim(0)), d);
        try (Tensor lc = lsm.contiguous(); Tensor tc = targets.tensor().contiguous()) {
            Backends.of(d).pickTargets(lc, tc, targets.ignored(), out);
        }
        return out;
    }

    /**
     * The gradient of cross-entropy with respect to the logits, from their log-softmax {@code [n, v]}:
     * {@code (exp(lsm[i, j]) - [j == targets[i]]) · scale}, 0 on ignored rows.
     */
    public static Tensor crossEntropyBackward(Tensor lsm, Indices targets, float scale) {
        Device d = checkTargets("crossEntropyBackward", lsm, targets);
        Tensor out = Tensor.empty(DType.F32, lsm.shape(), d);
        try (Tensor lc = lsm.contiguous(); Tensor tc = targets.tensor().contiguous()) {
            Backends.of(d).crossEntropyBackward(lc, tc, targets.ignored(), scale, out);
        }
        return out;
    }

    private static Device checkTargets(String op, Tensor lsm, Indices targets) {
        Tensor t = targets.tensor();
        Device d = Ops.sameDevice(op, lsm, t);
        Ops.f32Input(op, lsm);
        if (lsm.rank() != 2 || t.rank() != 1 || t.dim(0) != lsm.dim(0) || targets.bound() != lsm.dim(1)) {
            throw new IllegalArgumentException(op + ": log-probabilities " + lsm.describe() + ", targets "
                    + t.describe() + " checked against " + targets.bound() + "; expected F32 [n, v] and targets [n] "
                    + "checked against v");
        }
        return d;
    }

    /**
     * One AdamW update of the parameter {@code p} in place, with its moments {@code m} and {@code v}
     * (also updated in place): contiguous F32 tensors of one shape on one device, and a gradient of
     * that shape.
     */
    public static void adamw(Tensor p, Tensor grad, Tensor m, Tensor v, AdamWStep step) {
        Device d = p.device();
        for (Tensor t : new Tensor[]{p, grad, m, v}) {
            Ops.sameDevice("adamw", p, t);
            Ops.f32Input("adamw", t);
            if (!t.shape().equals(p.shape())) {
                throw new IllegalArgumentException("adamw: " + t.describe() + " beside the parameter " + p.describe()
                        + "; expected the parameter's shape");
            }
        }
        for (Tensor t : new Tensor[]{p, m, v}) {
            if (!t.isContiguous()) {
                throw new IllegalArgumentException("adamw: " + t.describe() + " is a strided view; the parameter "
                        + "and its moments are updated in place and must be contiguous");
            }
        }
        try (Tensor g = grad.contiguous()) {
            Backends.of(d).adamw(p, g, m, v, step);
        }
    }
}
