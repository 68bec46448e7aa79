package dev.qlora4j.autograd;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Indices;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.TrainingOps;

/**
 * Embedding lookup: {@code out[..., :] = table[ids[...], :]} for I32 ids and a table [vocab, d], F32,
 * or BF16 when it is frozen (a trained table is F32, and gets an F32 gradient).
 * Backward: each row of dy is added into the table row its id picked (a scatter-add, so repeated
 * ids accumulate).
 */
final class EmbeddingOp {
    private EmbeddingOp() {
    }

    static Var apply(Tensor ids, Var table) {
        Tensor t = table.value();
        // Checked once and moved to the table's device once; the backward reuses the device copy.
        Indices onDevice = Indices.check("embedding", ids, t.rank() == 2 ? t.dim(0) : 0, t.device());
        Tensor out = TrainingOps.embedding(t, onDevice);
        return Tape.output(out, new Node(table) {
            @Override
            String name() {
                return "embedding";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                Tensor grad = Tensor.zeros(DType.F32, t.shape(), t.device());
                TrainingOps.embeddingBackward(dy, onDevice, grad);
                return new Tensor[]{grad};
            }
        });
    }
}
