package dev.qlora4j.autograd;

import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Shape;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.nf4.QuantizedMatmul;
import dev.qlora4j.nf4.QuantizedWeight;

/**
 * The frozen base weight W [out, in] of a LoRA layer: dense (F32 or BF16) or quantized (NF4, FP4,
 * INT8). It only ever multiplies — {@code x·Wᵀ} forward, {@code dY·W} backward — and never has a
 * gradient; a quantized W is decoded tile by tile inside those products.
 */
public sealed interface FrozenWeight permits FrozenWeight.Dense, FrozenWeight.Quantized {
    /** The weight's shape, [out, in]. */
    Shape shape();

    /** Where the weight lives; the layer's inputs and adapters must be there too. */
    Device device();

    /** {@code x[..., in] · Wᵀ -> F32 [..., out]}. */
    Tensor forward(Tensor x);

    /** {@code dy[..., out] · W -> F32 [..., in]}. */
    Tensor inputGradient(Tensor dy);

    /**
     * A dense weight over {@code w} [out, in] (F32, BF16 or F16), not copied: the caller keeps and closes it.
     *
     * @throws IllegalArgumentException when {@code w} is not a 2-D floating-point tensor
     */
    static FrozenWeight of(Tensor w) {
        return new Dense(w);
    }

    /** A quantized weight over {@code w}, not copied: the caller keeps and closes it. */
    static FrozenWeight of(QuantizedWeight w) {
        return new Quantized(w);
    }

    /** A weight in memory; its dtype must be floating point. */
    record Dense(Tensor w) implements FrozenWeight {
        public Dense {
            if (w.rank() != 2 || !w.dtype().isFloatingPoint()) {
                throw new IllegalArgumentException("frozen weight " + w.describe() + ": expected a 2-D F32/BF16/F16 [out, in]");
            }
        }

        @Override
        public Shape shape() {
            return w.shape();
        }

        @Override
        public Device device() {
            return w.device();
        }

        @Override
        public Tensor forward(Tensor x) {
            try (Tensor wt = w.transpose(0, 1)) {
                return Ops.matmul(x, wt);
            }
        }

        @Override
        public Tensor inputGradient(Tensor dy) {
            return Ops.matmul(dy, w);
        }
    }

    /** A bitsandbytes-format weight. */
    record Quantized(QuantizedWeight w) implements FrozenWeight {
        @Override
        public Shape shape() {
            return w.shape();
        }

        @Override
        public Device device() {
            return w.device();
        }

        @Override
        public Tensor forward(Tensor x) {
            return QuantizedMatmul.linear(x, w);
        }

        @Override
        public Tensor inputGradient(Tensor dy) {
            return QuantizedMatmul.linearInputGradient(dy, w);
        }
    }

    /** out += a·b, accumulating into an existing F32 tensor (no temporary of out's size). */
    static void addProduct(Tensor a, Tensor b, Tensor out) {
        Ops.matmulAccumulate(a, b, out);
    }
}
