package dev.qlora4j.autograd;

import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Tensor;

/** Reshape and transpose. Backward: the inverse view of dy (copied, so it owns its storage). */
final class ViewOps {
    private ViewOps() {
    }

    static Var reshape(Var x, int... dims) {
        Tensor y = x.value().reshape(dims);
        int[] original = x.value().shape().dims();
        return Tape.output(y, new Node(x) {
            @Override
            String name() {
                return "reshape";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                try (Tensor v = dy.reshape(original)) {
                    return new Tensor[]{Ops.cast(v, dev.qlora4j.engine.DType.F32)};
                }
            }
        });
    }

    static Var transpose(Var x, int a, int b) {
        Tensor y = x.value().transpose(a, b);
        return Tape.output(y, new Node(x) {
            @Override
            String name() {
                return "transpose";
            }

            @Override
            Tensor[] backward(Tensor dy) {
                try (Tensor v = dy.transpose(a, b)) {
                    return new Tensor[]{Ops.cast(v, dev.qlora4j.engine.DType.F32)};
                }
            }
        });
    }
}
