package dev.qlora4j.autograd;

import dev.qlora4j.engine.Backend;
import dev.qlora4j.engine.Backends;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Shape;
import dev.qlora4j.engine.Tensor;

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
        int n = lg.dim(0);
        int v = lg.dim(1);
        float[] given = targets.toFloatArray();
        int valid = 0;
        for (int i = 0; i < n; i++) {
            int t = (int) given[i];
            if (t == ignoreIndex) {
                continue;
            }
            if (t < 0 || t >= v) {
                throw new IndexOutOfBoundsException("crossEntropy: target " + t + " at row " + i + " is outside [0, " + v + ")");
            }
            valid++;
        }
        if (valid == 0) {
            throw new IllegalArgumentException("crossEntropy: every target equals the ignore index " + ignoreIndex);
        }
        Device device = lg.device();
        Backend backend = Backends.of(device);
        Tensor lsm = Ops.logSoftmax(lg);
        Tensor onDevice = targets.to(device);
        int count = valid;
        Tensor loss;
        try (Tensor picked = Tensor.empty(DType.F32, Shape.of(n), device); Tensor sum = pickAndSum(backend, lsm, onDevice, ignoreIndex, picked);
             Tensor factor = Tensor.of(new float[]{-1f / count}, 1)) {
            loss = Ops.mul(sum, factor);
        }
        return Tape.output(loss, new Node(logits) {
            @Override
            String name() {
                return "crossEntropy";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                Tensor grad = Tensor.empty(DType.F32, lsm.shape(), device);
                backend.crossEntropyBackward(lsm, onDevice, ignoreIndex, dy.getFlat(0) / count, grad);
                return new Tensor[]{grad};
            }
        });
    }

    /** Σ_i lsm[i, t_i] over the valid rows, as a [1] tensor on lsm's device. */
    private static Tensor pickAndSum(Backend backend, Tensor lsm, Tensor targets, int ignoreIndex, Tensor picked) {
        backend.pickTargets(lsm, targets, ignoreIndex, picked);
        return Ops.reduce(dev.qlora4j.engine.ReduceOp.SUM, picked, 0, true);
    }
}
