package dev.qlora4j.autograd;

import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.TrainingOps;

/**
 * Causal self-attention with grouped-query heads as one fused op: {@code softmax(q·kᵀ/√d)·v}, each
 * query attending to its own and earlier positions. The forward keeps, besides its inputs, only the
 * output and each query row's log-sum-exp ({@link TrainingOps#causalAttention}); the backward
 * recomputes the probabilities from them. No T×T tensor and no key/value head repeated per query
 * head is ever held, which is what makes long sequences fit: the unfused form kept four T×T tensors
 * per head and layer until the step ended.
 */
final class AttentionOps {
    private AttentionOps() {
    }

    /** q [B, H, T, d], k and v [B, G, T, d] with H a multiple of G; returns [B, H, T, d]. */
    static Var causal(Var q, Var k, Var v) {
        float scale = (float) (1 / Math.sqrt(q.value().dim(3)));
        TrainingOps.Attention forward = TrainingOps.causalAttention(q.value(), k.value(), v.value(), scale);
        if (!Tape.recording() || !(q.requiresGrad() || k.requiresGrad() || v.requiresGrad())) {
            forward.lse().close(); // only a backward reads it, and none will be recorded
        }
        return Tape.output(forward.out(), new Node(q, k, v) {
            @Override
            String name() {
                return "causalAttention";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                return TrainingOps.causalAttentionBackward(q.value(), k.value(), v.value(), forward, dy, scale);
            }
        });
    }
}
