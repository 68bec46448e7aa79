package dev.qlora4j.nf4;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.DeviceConstants;
import dev.qlora4j.engine.Shape;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.cuda.CudaContext;
import dev.qlora4j.engine.cuda.CudaModule;

import java.util.ArrayList;
import java.util.List;

/**
 * Dequantization on a CUDA device, with the kernels of {@code cuda/dequant.cu}: all of a weight, or
 * a band of its rows (what {@link CudaQuantizedMatmul} decodes at a time). Results are bit-identical
 * to {@link Dequantize} on the CPU: the kernels do the same f32 operations in the same order.
 */
final class CudaDequantize {
    private CudaDequantize() {
    }

    private static CudaModule kernels(CudaContext context) {
        return context.module("dev/qlora4j/nf4/cuda/dequant.ptx",
                () -> CudaDequantize.class.getResourceAsStream("cuda/dequant.ptx"),
                () -> CudaDequantize.class.getResourceAsStream("cuda/dequant.fatbin"));
    }

    /**
     * The granularity of row bands of a 2-D weight: a band of a 4-bit weight must start on a block
     * boundary, and on a nested block's boundary under double quantization, so that its scales are
     * a slice of the weight's.
     */
    static int rowGranularity(QuantizedWeight w) {
        if (!(w instanceof FourBitWeight f)) {
            return 1;
        }
        long unit = (long) f.blocksize() * (f.doubleQuant() ? FourBitWeight.NESTED_BLOCKSIZE : 1);
        long cols = w.shape().dim(1);
        return (int) Math.min(w.shape().dim(0), unit / gcd(unit, cols));
    }

    private static long gcd(long a, long b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    /** Rows {@code [r0, r1)} of a 2-D weight as a new [r1 - r0, cols] tensor of dtype {@code out} (F32 or BF16). */
    static Tensor rows(QuantizedWeight w, int r0, int r1, DType out) {
        int cols = w.shape().dim(1);
        Tensor result = Tensor.empty(out, Shape.of(r1 - r0, cols), w.device());
        decode(w, (long) r0 * cols, result);
        return result;
    }

    /** All of a weight, in its shape. */
    static Tensor all(QuantizedWeight w, DType out) {
        Tensor result = Tensor.empty(out, w.shape(), w.device());
        decode(w, 0, result);
        return result;
    }

    /** Decodes the weight's elements [start, start + result.numel()) into {@code result}. */
    private static void decode(QuantizedWeight w, long start, Tensor result) {
        CudaContext context = CudaContext.of(result.device());
        long n = result.numel();
        if (n == 0) {
            return;
        }
        switch (w) {
            case FourBitWeight f -> fourBit(context, f, start, n, result);
            case Int8Weight i -> {
                int cols = i.shape().dim(1);
                long r0 = start / cols;
                try (Tensor cb = slice(i.cb(), start, n); Tensor scb = slice(i.scb(), r0, n / cols)) {
                    context.launch(kernels(context), "dequant_int8_rows", n, cb, scb, result,
                            result.dtype().ordinal(), n / cols, cols);
                }
            }
        }
    }

    private static void fourBit(CudaContext context, FourBitWeight f, long start, long n, Tensor result) {
        int bs = f.blocksize();
        int nestedBs = FourBitWeight.NESTED_BLOCKSIZE;
        long firstBlock = start / bs;
        long blocks = (n + bs - 1) / bs;
        try (Tensor codeOnDevice = table(result.device(), f.type().codeValues());
             Tensor packed = slice(f.packed(), start / 2, (n + 1) / 2);
             Tensor scales = slice(f.absmaxTensor(), firstBlock, blocks)) {
            if (!f.doubleQuant()) {
                context.launch(kernels(context), "dequant_4bit", (n + 7) / 8, packed, scales, CudaContext.NULL_POINTER,
                        CudaContext.NULL_POINTER, CudaContext.NULL_POINTER, 0f, codeOnDevice, result,
                        result.dtype().ordinal(), n, bs, nestedBs);
                return;
            }
            long firstNested = firstBlock / nestedBs;
            long lastNested = (firstBlock + blocks - 1) / nestedBs;
            try (Tensor mapOnDevice = table(result.device(), f.nestedCode());
                 Tensor nestedAbsmax = slice(f.nestedAbsmax(), firstNested, lastNested - firstNested + 1)) {
                context.launch(kernels(context), "dequant_4bit", (n + 7) / 8, packed, CudaContext.NULL_POINTER, scales,
                        mapOnDevice, nestedAbsmax, f.offset(), codeOnDevice, result, result.dtype().ordinal(), n, bs, nestedBs);
            }
        }
    }

    /**
     * {@code values} (a 16-entry code book or a 256-entry nested map) as an F32 tensor on
     * {@code device}, to close: every product with a quantized weight decodes with them, so they
     * are copied there once and kept ({@link DeviceConstants}).
     */
    static Tensor table(Device device, float[] values) {
        // Boxed, the values compare bit for bit (Float.equals), as a key must.
        List<Object> key = new ArrayList<>(values.length + 1);
        key.add("nf4 table");
        for (float v : values) {
            key.add(v);
        }
        return DeviceConstants.on(device, key, () -> Tensor.of(values, values.length));
    }

    /** Elements [start, start + count) of a tensor in row-major order, as a view. */
    private static Tensor slice(Tensor t, long start, long count) {
        try (Tensor flat = t.reshape(-1)) {
            return flat.slice(0, Math.toIntExact(start), Math.toIntExact(start + count));
        }
    }
}
