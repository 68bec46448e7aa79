package dev.qlora4j.autograd;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Ops;
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
        int[] t = new int[n];
        int valid = 0;
        for (int i = 0; i < n; i++) {
            t[i] = (int) targets.getFlat(i);
            if (t[i] == ignoreIndex) {
                continue;
            }
            if (t[i] < 0 || t[i] >= v) {
                throw new IndexOutOfBoundsException("crossEntropy: target " + t[i] + " at row " + i + " is outside [0, " + v + ")");
            }
            valid++;
        }
        if (valid == 0) {
            throw new IllegalArgumentException("crossEntropy: every target equals the ignore index " + ignoreIndex);
        }
        Tensor lsm = Ops.logSoftmax(lg);
        double sum = 0;
        java.lang.foreign.MemorySegment ls = lsm.segment();
        for (int i = 0; i < n; i++) {
            if (t[i] != ignoreIndex) {
                sum += ls.get(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, lsm.byteOffset() + ((long) i * v + t[i]) * Float.BYTES);
            }
        }
        int count = valid;
        Tensor loss = Tensor.of(new float[]{(float) (-sum / count)}, 1);
        return Tape.output(loss, new Node(logits) {
            @Override
            String name() {
                return "crossEntropy";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                float[] p = lsm.toFloatArray();
                float scale = dy.getFlat(0) / count;
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < v; j++) {
                        int k = i * v + j;
                        p[k] = t[i] == ignoreIndex ? 0f : ((float) Math.exp(p[k]) - (j == t[i] ? 1f : 0f)) * scale;
                    }
                }
                return new Tensor[]{Tensor.of(p, n, v)};
            }
        });
    }
}
