package dev.qlora4j.nf4;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Shape;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.cpu.CpuBackend;
import dev.qlora4j.engine.cpu.Gemm;
import dev.qlora4j.engine.cpu.MatrixOperand;

/**
 * Products with a quantized weight W [out, in] that never materialize W in f32: on the CPU the GEMM
 * decodes one {@code KC x NC} block of it at a time while packing its panels
 * ({@link QuantizedPanels}); on a GPU, bands of rows are decoded to BF16 for cuBLAS
 * ({@link CudaQuantizedMatmul}).
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

    /** One token: each output is a dot product streamed straight from the packed codes. */
    private static void gemv(Dequantize.Decoder d, Tensor x, int k, int n, Tensor out) {
        float[] xp;
        try (Tensor xf = x.dtype() == DType.F32 ? x.contiguous() : dev.qlora4j.engine.Ops.cast(x, DType.F32)) {
            xp = Dequantize.Decoder.permuteForDot(xf.toFloatArray());
        }
        int rowsPerTask = 64;
        java.lang.foreign.MemorySegment y = out.segment();
        long yBase = out.byteOffset();
        CpuBackend.shared().pool().run((n + rowsPerTask - 1) / rowsPerTask, t -> {
            for (int j = t * rowsPerTask; j < Math.min(n, (t + 1) * rowsPerTask); j++) {
                y.set(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, yBase + (long) j * Float.BYTES,
                        d.dot((long) j * k, k, xp));
            }
        });
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
        if (!x.device().equals(Device.CPU)) {
            return CudaQuantizedMatmul.multiply(x, w, orientation == QuantizedPanels.Orientation.TRANSPOSED);
        }
        int[] outDims = x.shape().dims();
        outDims[outDims.length - 1] = n;
        Tensor out = Tensor.empty(DType.F32, Shape.of(outDims), Device.CPU);
        int m = (int) (x.numel() / Math.max(1, k));
        if (out.numel() == 0) {
            return out;
        }
        if (m == 1 && orientation == QuantizedPanels.Orientation.TRANSPOSED && w instanceof FourBitWeight f) {
            Dequantize.Decoder d = Dequantize.Decoder.of(f);
            if (d.dotApplies(k)) {
                gemv(d, x, k, n, out);
                return out;
            }
        }
        try (Tensor xc = x.contiguous()) {
            MatrixOperand a = new MatrixOperand(xc.segment(), xc.dtype(), xc.offset(), 0, k, 1);
            MatrixOperand c = new MatrixOperand(out.segment(), DType.F32, out.offset(), 0, n, 1);
            Gemm.gemm(CpuBackend.shared().pool(), 1, m, n, k, a, QuantizedPanels.of(w, orientation), c, false);
        }
        return out;
    }
}
