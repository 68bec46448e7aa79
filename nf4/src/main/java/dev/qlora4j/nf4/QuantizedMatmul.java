package dev.qlora4j.nf4;

import dev.qlora4j.engine.Tensor;

/**
 * Products with a quantized weight W [out, in] that never materialize W in f32: on the CPU the GEMM
 * decodes one {@code KC x NC} block of it at a time while packing its panels
 * ({@link CpuQuantizedKernels}); on a GPU, bands of rows are decoded to BF16 for cuBLAS
 * ({@link CudaQuantizedKernels}).
 */
public final class QuantizedMatmul {
    private QuantizedMatmul() {
    }

    /** A linear layer's forward: {@code x[..., in] · dequant(W)ᵀ -> F32 [..., out]}. */
    public static Tensor linear(Tensor x, QuantizedWeight w) {
        return multiply("linear", x, w, QuantizedPanels.Orientation.TRANSPOSED, w.shape().dim(1), w.shape().dim(0));
    }

    /** A linear layer's input gradient: {@code dy[..., out] · dequant(W) -> F32 [..., in]}. */
    public static Tensor linearInputGradient(Tensor dy, QuantizedWeight w) {
        return multiply("linearInputGradient", dy, w, QuantizedPanels.Orientation.AS_STORED, w.shape().dim(0),
                w.shape().dim(1));
    }

    private static Tensor multiply(String op, Tensor x, QuantizedWeight w, QuantizedPanels.Orientation orientation,
                                   int k, int n) {
        x.checkOpen(op);
        if (w.shape().rank() != 2) {
            throw new IllegalArgumentException(op + ": weight of shape " + w.shape() + "; expected 2-D [out, in]");
        }
        if (x.rank() < 1 || x.dim(-1) != k || !x.dtype().isFloatingPoint() || !x.device().equals(w.device())) {
            throw new IllegalArgumentException(op + ": input " + x.describe() + " with weight " + w.shape() + " on "
                    + w.device() + "; expected an F32/BF16/F16 tensor of shape [..., " + k + "] on the weight's device");
        }
        return QuantizedKernels.of(x.device()).multiply(x, w, orientation == QuantizedPanels.Orientation.TRANSPOSED);
    }
}
