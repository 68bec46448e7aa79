package dev.qlora4j.nf4;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Shape;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.spi.CpuKernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Quantized weights on the CPU: Vector API dequantization ({@link Dequantize}), and products through
 * the engine's GEMM with the weight decoded block by block as its panels are packed
 * ({@link QuantizedPanels}), or for one token a dot product streamed from the packed codes.
 */
final class CpuQuantizedKernels implements QuantizedKernels {
    static final CpuQuantizedKernels INSTANCE = new CpuQuantizedKernels();

    private CpuQuantizedKernels() {
    }

    @Override
    public Tensor dequantize(QuantizedWeight w, DType out) {
        return switch (w) {
            case FourBitWeight f -> Dequantize.fourBit(f, out);
            case Int8Weight i -> {
                Tensor f32 = Tensor.empty(DType.F32, i.shape().dim(0), i.shape().dim(1));
                i.decode(0, f32.numel(), f32.segment(), f32.byteOffset());
                if (out == DType.F32) {
                    yield f32;
                }
                try (f32) {
                    yield Ops.cast(f32, out);
                }
            }
        };
    }

    @Override
    public Tensor multiply(Tensor x, QuantizedWeight w, boolean transposed) {
        int k = transposed ? w.shape().dim(1) : w.shape().dim(0);
        int n = transposed ? w.shape().dim(0) : w.shape().dim(1);
        int[] outDims = x.shape().dims();
        outDims[outDims.length - 1] = n;
        Tensor out = Tensor.empty(DType.F32, Shape.of(outDims), Device.CPU);
        int m = (int) (x.numel() / Math.max(1, k));
        if (out.numel() == 0) {
            return out;
        }
        if (m == 1 && transposed && w instanceof FourBitWeight f) {
            Dequantize.Decoder d = Dequantize.Decoder.of(f);
            if (d.dotApplies(k)) {
                gemv(d, x, k, n, out);
                return out;
            }
        }
        QuantizedPanels.Orientation orientation = transposed
                ? QuantizedPanels.Orientation.TRANSPOSED : QuantizedPanels.Orientation.AS_STORED;
        try (Tensor xc = x.contiguous()) {
            CpuKernels.gemm(xc, QuantizedPanels.of(w, orientation), out);
        }
        return out;
    }

    /** One token: each output is a dot product streamed straight from the packed codes. */
    private static void gemv(Dequantize.Decoder d, Tensor x, int k, int n, Tensor out) {
        float[] xp;
        try (Tensor xf = x.dtype() == DType.F32 ? x.contiguous() : Ops.cast(x, DType.F32)) {
            xp = Dequantize.Decoder.permuteForDot(xf.toFloatArray());
        }
        int rowsPerTask = 64;
        MemorySegment y = out.segment();
        long yBase = out.byteOffset();
        CpuKernels.parallel((n + rowsPerTask - 1) / rowsPerTask, t -> {
            for (int j = t * rowsPerTask; j < Math.min(n, (t + 1) * rowsPerTask); j++) {
                y.set(ValueLayout.JAVA_FLOAT_UNALIGNED, yBase + (long) j * Float.BYTES, d.dot((long) j * k, k, xp));
            }
        });
    }
}
