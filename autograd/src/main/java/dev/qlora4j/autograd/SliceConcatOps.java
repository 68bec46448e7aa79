package dev.qlora4j.autograd;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Shape;
import dev.qlora4j.engine.Tensor;

import java.util.List;

/**
 * Slice along an axis and concatenation along an axis. Backward: a slice's gradient is dy placed
 * in a zero tensor of the input's shape; a concatenation's is dy cut back into the inputs' pieces.
 */
final class SliceConcatOps {
    private SliceConcatOps() {
    }

    static Var slice(Var x, int axis, int start, int end) {
        Tensor tx = x.value();
        int ax = tx.shape().normalizeAxis(axis);
        Tensor y = tx.slice(ax, start, end);
        return Tape.output(y, new Node(x) {
            @Override
            String name() {
                return "slice";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                Tensor grad = Tensor.zeros(DType.F32, tx.shape(), tx.device());
                try (Tensor window = grad.slice(ax, start, end)) {
                    copyInto(dy, window);
                }
                return new Tensor[]{grad};
            }
        });
    }

    static Var concat(List<Var> parts, int axis) {
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("concat: no tensors given");
        }
        Tensor first = parts.get(0).value();
        int ax = first.shape().normalizeAxis(axis);
        int[] dims = first.shape().dims();
        int total = 0;
        for (Var p : parts) {
            if (!p.value().device().equals(first.device())) {
                throw new IllegalArgumentException("concat: " + p.value().describe() + " is on " + p.value().device()
                        + ", " + first.describe() + " on " + first.device() + "; move them to one device first");
            }
            int[] d = p.value().shape().dims();
            d[ax] = dims[ax];
            if (!java.util.Arrays.equals(d, dims)) {
                throw new IllegalArgumentException("concat along axis " + axis + ": " + p.value().describe() + " does not match "
                        + first.describe() + " outside that axis");
            }
            total += p.value().dim(ax);
        }
        dims[ax] = total;
        Tensor y = Tensor.empty(DType.F32, Shape.of(dims), first.device());
        int at = 0;
        int[] offsets = new int[parts.size() + 1];
        for (int i = 0; i < parts.size(); i++) {
            Tensor v = parts.get(i).value();
            offsets[i] = at;
            try (Tensor window = y.slice(ax, at, at + v.dim(ax))) {
                copyInto(v, window);
            }
            at += v.dim(ax);
        }
        offsets[parts.size()] = at;
        return Tape.output(y, new Node(parts.toArray(new Var[0])) {
            @Override
            String name() {
                return "concat";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                Tensor[] grads = new Tensor[parts.size()];
                for (int i = 0; i < grads.length; i++) {
                    if (needs(i)) {
                        try (Tensor piece = dy.slice(ax, offsets[i], offsets[i + 1])) {
                            grads[i] = dev.qlora4j.engine.Ops.cast(piece, DType.F32);
                        }
                    }
                }
                return grads;
            }
        });
    }

    /** Copies {@code src} into the view {@code dst} of the same shape (any strides). */
    private static void copyInto(Tensor src, Tensor dst) {
        Ops.copyInto(src, dst);
    }
}
