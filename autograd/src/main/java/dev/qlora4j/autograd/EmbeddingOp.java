package dev.qlora4j.autograd;

import dev.qlora4j.engine.Backends;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Shape;
import dev.qlora4j.engine.Tensor;

/**
 * Embedding lookup: {@code out[..., :] = table[ids[...], :]} for I32 ids and an F32 table [vocab, d].
 * Backward: each row of dy is added into the table row its id picked (a scatter-add, so repeated
 * ids accumulate).
 */
final class EmbeddingOp {
    private EmbeddingOp() {
    }

    static Var apply(Tensor ids, Var table) {
        Tensor t = table.value();
        if (ids.dtype() != DType.I32 || t.rank() != 2 || t.dtype() != DType.F32) {
            throw new IllegalArgumentException("embedding: ids " + ids.describe() + ", table " + t.describe()
                    + "; expected I32 ids and an F32 table [vocab, d]");
        }
        int vocab = t.dim(0);
        int d = t.dim(1);
        float[] given = ids.toFloatArray();
        for (int i = 0; i < given.length; i++) {
            if (given[i] < 0 || given[i] >= vocab) {
                throw new IndexOutOfBoundsException("embedding: id " + (int) given[i] + " at position " + i + " is outside [0, " + vocab + ")");
            }
        }
        int[] outDims = java.util.Arrays.copyOf(ids.shape().dims(), ids.rank() + 1);
        outDims[ids.rank()] = d;
        Tensor out = Tensor.empty(DType.F32, Shape.of(outDims), t.device());
        Tensor onDevice = ids.to(t.device());
        try (Tensor tc = t.contiguous()) {
            Backends.of(t.device()).embedding(tc, onDevice, out);
        }
        return Tape.output(out, new Node(table) {
            @Override
            String name() {
                return "embedding";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                Tensor grad = Tensor.zeros(DType.F32, t.shape(), t.device());
                try (Tensor g = dy.contiguous()) {
                    Backends.of(t.device()).embeddingBackward(g, onDevice, grad);
                }
                return new Tensor[]{grad};
            }
        });
    }
}
