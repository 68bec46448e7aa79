package dev.qlora4j.autograd;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.TrainingOps;

/**
 * The pieces of causal self-attention with grouped-query heads that are not plain matmuls:
 * repeating key/value heads for their query groups, and the causal mask.
 */
final class AttentionOps {
    private AttentionOps() {
    }

    /**
     * x [B, KV, T, hd] to [B, KV·groups, T, hd], each key/value head repeated for the {@code groups}
     * query heads that share it (head h reads KV head h / groups, as Hugging Face's repeat_kv).
     * Backward: the gradients of each group's copies summed.
     */
    static Var repeatKv(Var x, int groups) {
        Tensor tx = x.value();
        if (groups == 1) {
            return x;
        }
        int b = tx.dim(0);
        int kv = tx.dim(1);
        int t = tx.dim(2);
        int hd = tx.dim(3);
        Tensor y;
        try (Tensor x5 = tx.reshape(b, kv, 1, t, hd); Tensor zeros = Tensor.zeros(DType.F32, dev.qlora4j.engine.Shape.of(b, kv, groups, t, hd), tx.device());
             Tensor expanded = Ops.add(zeros, x5)) {
            y = expanded.reshape(b, kv * groups, t, hd);
        }
        return Tape.output(y, new Node(x) {
            @Override
            String name() {
                return "repeatKv";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                try (Tensor d5 = dy.reshape(b, kv, groups, t, hd); Tensor s = Ops.sum(d5, 2)) {
                    return new Tensor[]{Ops.cast(s, DType.F32)};
                }
            }
        });
    }

    /**
     * scores [..., T, T] with every entry above the diagonal (a key after its query) set to -inf.
     * Backward: dy passed through with those entries zeroed.
     */
    static Var causalMask(Var scores) {
        Tensor s = scores.value();
        int t = s.dim(-1);
        if (s.dim(-2) != t) {
            throw new IllegalArgumentException("causalMask: " + s.describe() + "; expected square [..., T, T] scores");
        }
        Tensor y = masked(s, Float.NEGATIVE_INFINITY);
        return Tape.output(y, new Node(scores) {
            @Override
            String name() {
                return "causalMask";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                return new Tensor[]{masked(dy, 0f)};
            }
        });
    }

    /** A contiguous F32 copy of s with the entries above each matrix's diagonal set to {@code fill}. */
    private static Tensor masked(Tensor s, float fill) {
        return TrainingOps.fillAboveDiagonal(s, fill);
    }
}
