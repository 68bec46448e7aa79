package dev.qlora4j.nf4;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Shape;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.cuda.CudaBackend;

/**
 * Products with a quantized weight W [out, in] on a CUDA device: W is decoded to BF16 one band of
 * rows at a time and each band multiplied by cuBLAS (BF16 inputs, F32 accumulation), so the
 * largest temporary is one band — {@value #BAND_ELEMENTS} elements, 16 MiB — never all of W.
 * Bands are large enough that each GEMM keeps the tensor cores busy.
 */
final class CudaQuantizedMatmul {
    /** Elements of W decoded at a time. */
    static final long BAND_ELEMENTS = 1L << 23;

    private CudaQuantizedMatmul() {
    }

    /**
     * {@code x[..., in] · Wᵀ -> F32 [..., out]} when {@code transposed}, else {@code x[..., out] · W -> F32 [..., in]}.
     */
    static Tensor multiply(Tensor x, QuantizedWeight w, boolean transposed) {
        return multiply(x, w, transposed, BAND_ELEMENTS);
    }

    /** {@link #multiply(Tensor, QuantizedWeight, boolean)} decoding about {@code bandElements} elements of W at a time. */
    static Tensor multiply(Tensor x, QuantizedWeight w, boolean transposed, long bandElements) {
        int rows = w.shape().dim(0);
        int cols = w.shape().dim(1);
        int k = transposed ? cols : rows;
        int n = transposed ? rows : cols;
        int m = (int) (x.numel() / Math.max(1, k));
        int[] outDims = x.shape().dims();
        outDims[outDims.length - 1] = n;
        Tensor out = Tensor.empty(DType.F32, Shape.of(outDims), x.device());
        if (out.numel() == 0) {
            return out;
        }
        CudaBackend backend = CudaBackend.of(x.device());
        int granularity = CudaDequantize.rowGranularity(w);
        int band = (int) Math.max(granularity, bandElements / Math.max(1, cols) / granularity * granularity);
        try (Tensor x2 = x.reshape(m, k); Tensor xb = Ops.cast(x2, DType.BF16); Tensor out2 = out.reshape(m, n)) {
            for (int r0 = 0; r0 < rows; r0 += band) {
                int r1 = Math.min(rows, r0 + band);
                try (Tensor tile = CudaDequantize.rows(w, r0, r1, DType.BF16)) {
                    if (transposed) {
                        // out[:, r0:r1] = x · tileᵀ
                        try (Tensor tileT = tile.transpose(0, 1); Tensor outBand = out2.slice(1, r0, r1)) {
                            backend.matmul(xb, tileT, outBand, false);
                        }
                    } else {
                        // out += x[:, r0:r1] · tile
                        try (Tensor xBand = xb.slice(1, r0, r1)) {
                            backend.matmul(xBand, tile, out2, r0 > 0);
                        }
                    }
                }
            }
        }
        return out;
    }
}
