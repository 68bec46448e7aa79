package dev.qlora4j.autograd;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Indices;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.ReduceOp;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.TrainingOps;

/**
 * The language-model head and its loss as one op: mean cross-entropy of the logits
 * {@code h·Wᵀ [N, V]} against I32 targets [N], skipping targets equal to {@code ignoreIndex}, computed
 * {@code chunkRows} rows at a time. A chunk's logits and log-softmax live only while the chunk is
 * computed, so no [N, V] tensor is kept for backward — for a 128k vocabulary and 2,048 tokens that is
 * 2 GiB of F32 logits and as much log-softmax not held — and the backward recomputes them chunk by
 * chunk: {@code dlogits = dy·(softmax − onehot(t))/n}, {@code dh = dlogits·W}, and when the head is
 * trained (full fine-tuning) {@code dW += dlogitsᵀ·h}. The head multiplies as a {@link FrozenWeight}
 * does, dense or quantized. With one chunk the arithmetic is that of {@code crossEntropy(linear(h, W))},
 * operation for operation.
 */
final class LinearCrossEntropyOp {
    private LinearCrossEntropyOp() {
    }

    /**
     * @param head    the head's weight [V, d], as it multiplies
     * @param trained the head's weight as a trained parameter (full fine-tuning), whose gradient this
     *                op accumulates; null when the head is frozen
     */
    static Var apply(Var hidden, FrozenWeight head, Var trained, Tensor targets, int ignoreIndex, int chunkRows) {
        Tensor h = hidden.value();
        if (h.rank() != 2 || head.shape().dim(1) != h.dim(1) || targets.dtype() != DType.I32 || targets.rank() != 1
                || targets.dim(0) != h.dim(0) || chunkRows < 1) {
            throw new IllegalArgumentException("linearCrossEntropy: hidden " + h.describe() + ", head " + head.shape()
                    + ", targets " + targets.describe() + ", chunk " + chunkRows
                    + " rows; expected hidden [N, d], head [V, d], I32 targets [N] and a chunk of at least 1 row");
        }
        int n = h.dim(0);
        Indices all = Indices.check("linearCrossEntropy", targets, head.shape().dim(0), ignoreIndex, h.device());
        if (all.counted() == 0) {
            all.close();
            throw new IllegalArgumentException("linearCrossEntropy: every target equals the ignore index " + ignoreIndex);
        }
        int count = all.counted();
        Tensor total = null;
        for (int r0 = 0; r0 < n; r0 += chunkRows) {
            int r1 = Math.min(n, r0 + chunkRows);
            try (Indices rows = all.rows(r0, r1); Tensor lsm = chunkLogSoftmax(h, head, r0, r1);
                 Tensor picked = TrainingOps.pickTargets(lsm, rows)) {
                Tensor sum = Ops.reduce(ReduceOp.SUM, picked, 0, true);
                if (total != null) {
                    try (Tensor before = total; Tensor part = sum) {
                        sum = Ops.add(before, part);
                    }
                }
                total = sum;
            }
        }
        Tensor loss;
        try (Tensor t = total) {
            loss = Ops.scale(t, -1f / count);
        }
        Node node = new Node(trained == null ? new Var[]{hidden} : new Var[]{hidden, trained}) {
            @Override
            String name() {
                return "linearCrossEntropy";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                float scale = dy.getFlat(0) / count;
                Tensor dh = needs(0) ? Tensor.empty(DType.F32, h.shape(), h.device()) : null;
                Tensor dw = trained != null && needs(1) ? Tensor.zeros(DType.F32, trained.value().shape(), h.device()) : null;
                for (int r0 = 0; r0 < n; r0 += chunkRows) {
                    int r1 = Math.min(n, r0 + chunkRows);
                    try (Indices rows = all.rows(r0, r1); Tensor lsm = chunkLogSoftmax(h, head, r0, r1);
                         Tensor dlogits = TrainingOps.crossEntropyBackward(lsm, rows, scale)) {
                        if (dh != null) {
                            try (Tensor part = head.inputGradient(dlogits); Tensor into = dh.slice(0, r0, r1)) {
                                Ops.copyInto(part, into);
                            }
                        }
                        if (dw != null) {
                            try (Tensor dlT = dlogits.transpose(0, 1); Tensor hc = h.slice(0, r0, r1)) {
                                Ops.matmulAccumulate(dlT, hc, dw);
                            }
                        }
                    }
                }
                return trained == null ? new Tensor[]{dh} : new Tensor[]{dh, dw};
            }
        };
        return Tape.output(loss, node);
    }

    /** log-softmax of the logits of rows [r0, r1): h[r0:r1]·Wᵀ, a new [r1 − r0, V] tensor. */
    private static Tensor chunkLogSoftmax(Tensor h, FrozenWeight head, int r0, int r1) {
        try (Tensor hc = h.slice(0, r0, r1); Tensor logits = head.forward(hc)) {
            return Ops.logSoftmax(logits);
        }
    }
}
