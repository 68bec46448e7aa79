package dev.qlora4j.nf4;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Tensor;

/**
 * The kernels of quantized weights on one kind of device: dequantization and the products that
 * never hold the whole weight in f32. The weight classes and {@link QuantizedMatmul} check the
 * arguments and ask {@link #of} for the device's kernels; nothing else in this module asks which
 * device a weight is on. The CPU kernels use the engine's CPU service-provider interface
 * ({@code dev.qlora4j.engine.spi}), the CUDA kernels the CUDA backend's ({@code dev.qlora4j.engine.cuda}),
 * which is needed only when a weight is on a GPU.
 */
interface QuantizedKernels {
    /**
     * The kernels for tensors on {@code device}. The CUDA ones load classes of the CUDA backend, so
     * they are reached only for a weight already on a GPU, where that backend is present.
     */
    static QuantizedKernels of(Device device) {
        return switch (device.kind()) {
            case CPU -> CpuQuantizedKernels.INSTANCE;
            case CUDA -> CudaQuantizedKernels.INSTANCE;
        };
    }

    /** The whole weight dequantized to F32 or BF16 (already checked), on the weight's device. */
    Tensor dequantize(QuantizedWeight w, DType out);

    /**
     * {@code x[..., k] · dequant(W)ᵀ} when {@code transposed} (k = W's columns), else
     * {@code x[..., k] · dequant(W)} (k = W's rows): F32 {@code [..., n]}. Arguments already checked:
     * x is floating point, on the weight's device, with a last axis of k.
     */
    Tensor multiply(Tensor x, QuantizedWeight w, boolean transposed);
}
