package dev.qlora4j.nf4;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Tensor;

/** Quantized weights on a CUDA device: the kernels of dequant.cu and cuBLAS over decoded bands. */
final class CudaQuantizedKernels implements QuantizedKernels {
    static final CudaQuantizedKernels INSTANCE = new CudaQuantizedKernels();

    private CudaQuantizedKernels() {
    }

    @Override
    public Tensor dequantize(QuantizedWeight w, DType out) {
        return CudaDequantize.all(w, out);
    }

    @Override
    public Tensor multiply(Tensor x, QuantizedWeight w, boolean transposed) {
        return CudaQuantizedMatmul.multiply(x, w, transposed);
    }
}
