package dev.qlora4j.autograd;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Shape;
import dev.qlora4j.engine.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

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
        int[] idx = new int[(int) ids.numel()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = (int) ids.getFlat(i);
            if (idx[i] < 0 || idx[i] >= vocab) {
                throw new IndexOutOfBoundsException("embedding: id " + idx[i] + " at position " + i + " is outside [0, " + vocab + ")");
            }
        }
        int[] outDims = java.util.Arrays.copyOf(ids.shape().dims(), ids.rank() + 1);
        outDims[ids.rank()] = d;
        Tensor out = Tensor.empty(DType.F32, Shape.of(outDims), t.device());
        try (Tensor tc = t.contiguous()) {
            for (int i = 0; i < idx.length; i++) {
                MemorySegment.copy(tc.segment(), tc.byteOffset() + (long) idx[i] * d * Float.BYTES,
                        out.segment(), out.byteOffset() + (long) i * d * Float.BYTES, (long) d * Float.BYTES);
            }
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
                    MemorySegment src = g.segment();
                    MemorySegment dst = grad.segment();
                    for (int i = 0; i < idx.length; i++) {
                        long from = g.byteOffset() + (long) i * d * Float.BYTES;
                        long to = grad.byteOffset() + (long) idx[i] * d * Float.BYTES;
                        for (int j = 0; j < d; j++) {
                            long o = (long) j * Float.BYTES;
                            dst.set(ValueLayout.JAVA_FLOAT_UNALIGNED, to + o, dst.get(ValueLayout.JAVA_FLOAT_UNALIGNED, to + o)
                                    + src.get(ValueLayout.JAVA_FLOAT_UNALIGNED, from + o));
                        }
                    }
                }
                return new Tensor[]{grad};
            }
        });
    }
}
