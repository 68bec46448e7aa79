package dev.qlora4j.autograd;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Indices;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.ReduceOp;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.TrainingOps;

/**
 * Mean cross-entropy of logits [N, V] against I32 targets [N], skipping targets equal to
 * {@code ignoreIndex}: {@code L = -(1/n) Σ_valid logSoftmax(logits)[i, t_i]}, shape [1].
 * Backward: {@code dlogits = dy · (softmax - onehot(t)) / n} on valid rows, 0 on ignored ones.
 */
final class CrossEntropyOp {
    private CrossEntropyOp() {
    }

    static Var apply(Var logits, Tensor targets, int ignoreIndex) {
        Tensor lg = logits.value();
        if (lg.rank() != 2 || targets.dtype() != DType.I32 || targets.rank() != 1 || targets.dim(0) != lg.dim(0)) {
            throw new IllegalArgumentException("crossEntropy: logits " + lg.describe() + ", targets " + targets.describe()
                    + "; expected logits [N, V] and I32 targets [N]");
        }
        Device device = lg.device();
        Indices onDevice = Indices.check("crossEntropy", targets, lg.dim(1), ignoreIndex, device);
        if (onDevice.counted() == 0) {
            onDevice.close();
            throw new IllegalArgumentException("crossEntropy: every target equals the ignore index " + ignoreIndex);
        }
        int count = onDevice.counted();
        Tensor lsm = Ops.logSoftmax(lg);
        Tensor loss;
        try (Tensor picked = TrainingOps.pickTargets(lsm, onDevice); Tensor sum = Ops.reduce(ReduceOp.SUM, picked, 0, true)) {
            loss = Ops.scale(sum, -1f / count);
        }
        return Tape.output(loss, new Node(logits) {
            @Override
            String name() {
                return "crossEntropy";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                return new Tensor[]{TrainingOps.crossEntropyBackward(lsm, onDevice, dy.getFlat(0) / count)};
            }
        });
    }
}
