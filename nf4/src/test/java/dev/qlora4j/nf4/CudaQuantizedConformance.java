package dev.qlora4j.nf4;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.testkit.CastReference;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Quantized weights on a CUDA device: dequantization bit-identical to the CPU's (which the
 * bitsandbytes vectors check), and products with the weight — decoded in bands of rows — against
 * an f64 oracle on BF16-rounded operands.
 */
abstract class CudaQuantizedConformance {
    abstract Device device();

    private static Tensor random(long seed, int rows, int cols) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return Tensor.of(v, rows, cols);
    }

    private void sameAsCpu(QuantizedWeight w) {
        try (w; QuantizedWeight onDevice = w.to(device())) {
            for (DType out : new DType[]{DType.F32, DType.BF16}) {
                try (Tensor cpu = w.dequantize(out); Tensor dev = onDevice.dequantize(out)) {
                    assertEquals(cpu.shape(), dev.shape());
                    assertArrayEquals(cpu.toFloatArray(), dev.toFloatArray(), w + " to " + out);
                }
            }
        }
    }

    @Test
    void dequantizationIsBitIdenticalToTheCpu() {
        try (Tensor w = random(1, 37, 128); Tensor odd = random(2, 3, 21)) {
            sameAsCpu(FourBitWeight.quantize(w, QuantType.NF4, 64, true));
            sameAsCpu(FourBitWeight.quantize(w, QuantType.NF4, 64, false));
            sameAsCpu(FourBitWeight.quantize(w, QuantType.FP4, 128, true));
            sameAsCpu(FourBitWeight.quantize(odd, QuantType.NF4, 32, true));
            sameAsCpu(Int8Weight.quantize(w));
        }
    }

    @Test
    void codeTablesAreCopiedToTheDeviceOnce() {
        float[] code = QuantType.NF4.codeValues();
        dev.qlora4j.engine.Allocator allocator = device().allocator();
        try (Tensor t = CudaDequantize.table(device(), code)) {
            long live = allocator.stats().live();
            // The same values again are a view of the kept copy: nothing new on the device.
            try (Tensor again = CudaDequantize.table(device(), code.clone())) {
                assertEquals(live, allocator.stats().live());
                assertArrayEquals(code, again.toFloatArray());
            }
            assertEquals(device(), t.device());
            assertArrayEquals(code, t.toFloatArray());
            float[] other = code.clone();
            other[3] = -other[3];
            try (Tensor different = CudaDequantize.table(device(), other)) {
                assertArrayEquals(other, different.toFloatArray());
            }
        }
    }

    @Test
    void productsDecodedInBandsMatchTheOracle() {
        for (boolean doubleQuant : new boolean[]{true, false}) {
            try (Tensor w = random(3, 600, 64); FourBitWeight q = FourBitWeight.quantize(w, QuantType.NF4, 64, doubleQuant)) {
                // Double quant: bands start on a nested block (256 rows of 64 here), so 600 rows make
                // bands of 256, 256 and 88; without it, bands of 4 rows are possible.
                for (long band : new long[]{CudaQuantizedMatmul.BAND_ELEMENTS, 256 * 64, 4 * 64}) {
                    productsMatch(q, band);
                }
            }
        }
    }

    private void productsMatch(FourBitWeight q, long band) {
        int out = q.shape().dim(0);
        int in = q.shape().dim(1);
        int m = 5;
        try (Tensor x = random(4, m, in); Tensor dy = random(5, m, out); QuantizedWeight qd = q.to(device());
             Tensor xd = x.to(device()); Tensor dyd = dy.to(device()); Tensor wq = q.dequantize(DType.F32);
             Tensor y = CudaQuantizedMatmul.multiply(xd, qd, true, band);
             Tensor dx = CudaQuantizedMatmul.multiply(dyd, qd, false, band)) {
            float[] wv = bf16(wq.toFloatArray());
            float[] xv = bf16(x.toFloatArray());
            float[] dv = bf16(dy.toFloatArray());
            float[] yv = y.toFloatArray();
            float[] dxv = dx.toFloatArray();
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < out; j++) {
                    double s = 0;
                    for (int p = 0; p < in; p++) {
                        s += (double) xv[i * in + p] * wv[j * in + p];
                    }
                    check(s, yv[i * out + j], q + ": x·Wᵀ in bands of " + band);
                }
                for (int p = 0; p < in; p++) {
                    double s = 0;
                    for (int j = 0; j < out; j++) {
                        s += (double) dv[i * out + j] * wv[j * in + p];
                    }
                    check(s, dxv[i * in + p], q + ": dy·W in bands of " + band);
                }
            }
        }
    }

    @Test
    void productsNeverHoldAllOfTheWeightDecoded() {
        // 4096² is two bands: the most device memory the forward and the input gradient take beyond
        // their inputs is one band in BF16 (16 MiB) plus the small activations — under W's own 32 MiB
        // in BF16, let alone 64 MiB in F32.
        int d = 4096;
        dev.qlora4j.engine.Allocator allocator = device().allocator();
        try (Tensor w = random(6, d, d); FourBitWeight q = FourBitWeight.quantize(w, QuantType.NF4, 64, true);
             QuantizedWeight qd = q.to(device()); Tensor x = random(7, 2, d); Tensor xd = x.to(device())) {
            long before = allocator.stats().live();
            allocator.resetPeak();
            try (Tensor y = QuantizedMatmul.linear(xd, qd); Tensor dx = QuantizedMatmul.linearInputGradient(y, qd)) {
                long peak = allocator.stats().peak() - before;
                long band = CudaQuantizedMatmul.BAND_ELEMENTS * 2;
                if (peak > band + (1 << 20)) {
                    fail("products with a 4096² NF4 weight took " + peak + " bytes of device memory; one BF16 band is " + band);
                }
                assertEquals(d, dx.dim(1));
            }
        }
    }

    private static void check(double expected, float actual, String what) {
        if (!(Math.abs(expected - actual) <= 1e-4 * Math.max(1, Math.abs(expected)))) {
            fail(what + ": " + actual + ", expected " + expected);
        }
    }

    private static float[] bf16(float[] v) {
        float[] r = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = (float) CastReference.decodeBf16(CastReference.roundToBf16(v[i]));
        }
        return r;
    }
}
