package dev.qlora4j.nf4;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Shape;
import dev.qlora4j.engine.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * LLM.int8 weight storage: each output row scaled by its absmax to int8, as bitsandbytes'
 * {@code int8_vectorwise_quant} does — the weight is first rounded to float16, {@code SCB[r]} is
 * the row's largest |value|, and {@code CB = rint_half_even(fl32(B * fl32(127 / SCB[r])))}. A zero
 * row stores zeros and a zero scale. Dequantized as {@code fl32(fl32(CB * SCB) * fl32(1/127))}.
 */
public final class Int8Weight implements QuantizedWeight {
    /** bitsandbytes' f32 constant for 1/127. */
    static final float INV_127 = (float) 7.874015718698502e-3;

    private final Tensor cb;  // I8 [rows, cols]
    private final Tensor scb; // F32 [rows]
    private final DType originalDType;

    Int8Weight(Tensor cb, Tensor scb, DType originalDType) {
        this.cb = cb;
        this.scb = scb;
        this.originalDType = originalDType;
    }

    /** Quantizes a 2-D floating-point weight [rows, cols] row by row. */
    public static Int8Weight quantize(Tensor w) {
        w.checkOpen("quantize int8");
        if (w.rank() != 2 || !w.dtype().isFloatingPoint() || w.numel() == 0) {
            throw new IllegalArgumentException("quantize int8: " + w.describe()
                    + "; expected a non-empty 2-D F32, BF16 or F16 weight [out, in]");
        }
        int rows = w.dim(0);
        int cols = w.dim(1);
        float[] x;
        try (Tensor half = Ops.cast(w, DType.F16); Tensor f = Ops.cast(half, DType.F32)) {
            x = f.toFloatArray();
        }
        Tensor cb = Tensor.empty(DType.I8, rows, cols);
        Tensor scb = Tensor.empty(DType.F32, rows);
        MemorySegment c = cb.segment();
        for (int r = 0; r < rows; r++) {
            float m = 0f;
            for (int j = 0; j < cols; j++) {
                m = Math.max(m, Math.abs(x[r * cols + j]));
            }
            scb.setFlat(r, m);
            float scale = 127f / m;
            for (int j = 0; j < cols; j++) {
                float s = x[r * cols + j] * scale;
                // A zero row gives 0 * inf = NaN, which the kernel's conversion turns into 0.
                int q = Float.isNaN(s) ? 0 : (int) Math.max(-128, Math.min(127, Math.rint(s)));
                c.set(ValueLayout.JAVA_BYTE, cb.byteOffset() + (long) r * cols + j, (byte) q);
            }
        }
        return new Int8Weight(cb, scb, w.dtype());
    }

    /** The int8 rows, I8 [rows, cols]. Owned by this weight. */
    public Tensor cb() {
        return cb;
    }

    /** One f32 scale per row, F32 [rows]. Owned by this weight. */
    public Tensor scb() {
        return scb;
    }

    @Override
    public Shape shape() {
        return cb.shape();
    }

    @Override
    public DType originalDType() {
        return originalDType;
    }

    @Override
    public Device device() {
        return cb.device();
    }

    @Override
    public Int8Weight to(Device target) {
        return new Int8Weight(cb.to(target), scb.to(target), originalDType);
    }

    @Override
    public Tensor dequantize(DType out) {
        if (out != DType.F32 && out != DType.BF16) {
            throw new IllegalArgumentException("dequantize int8: output dtype " + out + ", expected F32 or BF16");
        }
        return QuantizedKernels.of(device()).dequantize(this, out);
    }

    /** Elements [lo, hi) in row-major order, dequantized to f32 into dst from byte {@code at}. */
    void decode(long lo, long hi, MemorySegment dst, long at) {
        int cols = cb.dim(1);
        MemorySegment c = cb.segment();
        MemorySegment s = scb.segment();
        for (long i = lo; i < hi; i++, at += Float.BYTES) {
            float scale = s.get(ValueLayout.JAVA_FLOAT_UNALIGNED, scb.byteOffset() + (i / cols) * Float.BYTES);
            dst.set(ValueLayout.JAVA_FLOAT_UNALIGNED, at, c.get(ValueLayout.JAVA_BYTE, cb.byteOffset() + i) * scale * INV_127);
        }
    }

    /** int8 data plus one f32 scale per row. */
    @Override
    public long footprintBytes() {
        return footprintBytes(cb.dim(0), cb.dim(1));
    }

    /** {@link #footprintBytes()} of a [rows, cols] weight, without quantizing one. */
    public static long footprintBytes(long rows, long cols) {
        return rows * cols + rows * Float.BYTES;
    }

    @Override
    public void close() {
        cb.close();
        scb.close();
    }
}
