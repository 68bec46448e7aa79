package dev.qlora4j.nf4;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.FloatBits;
import dev.qlora4j.engine.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** 4-bit quantization's own rules, and the vector dequant kernel against its scalar definition. */
class FourBitWeightTest {

    @Test
    @Tag("kernels")
    void vectorDequantMatchesTheScalarDefinitionBitForBit() {
        SplittableRandom r = new SplittableRandom(30);
        int[][] shapes = {{1}, {3}, {33}, {64, 7}, {65, 65}, {257, 129}, {3, 70001}};
        for (QuantType type : QuantType.values()) {
            for (int bs : FourBitWeight.BLOCK_SIZES) {
                for (int[] s : shapes) {
                    for (boolean dq : new boolean[]{false, true}) {
                        try (Tensor w = RandomTensors.gaussian(r, DType.F32, 0.02, s);
                             FourBitWeight q = FourBitWeight.quantize(w, type, bs, dq);
                             Tensor f = q.dequantize(DType.F32); Tensor h = q.dequantize(DType.BF16)) {
                            float[] ref = Dequantize.fourBitScalar(q);
                            for (int i = 0; i < ref.length; i++) {
                                if (Float.floatToRawIntBits(ref[i]) != Float.floatToRawIntBits(f.getFlat(i))) {
                                    fail(q + " element " + i + ": " + f.getFlat(i) + ", expected " + ref[i]);
                                }
                                float rounded = FloatBits.bf16ToFloat(FloatBits.floatToBf16(ref[i]));
                                assertEquals(Float.floatToRawIntBits(rounded), Float.floatToRawIntBits(h.getFlat(i)));
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void codeValuesEncodeToThemselvesAndThresholdTiesGoDown() {
        for (QuantType type : QuantType.values()) {
            for (int c = 0; c < 16; c++) {
                float v = type.value(c);
                int expected = type == QuantType.FP4 && c == 8 ? 0 : c; // -0.0 has sign bit 0 under x < 0
                assertEquals(expected, type.encode(v), type + " code " + c);
            }
        }
        // A value on an NF4 threshold takes the lower code; the thresholds sit within an ulp of the midpoints.
        for (int k = 0; k < 15; k++) {
            float t = QuantType.nf4Threshold(k);
            assertEquals(k, QuantType.NF4.encode(t), "tie at threshold " + k);
            assertEquals(k + 1, QuantType.NF4.encode(Math.nextUp(t)));
            float mid = (QuantType.NF4.value(k) + QuantType.NF4.value(k + 1)) / 2;
            assertTrue(Math.abs(t - mid) <= Math.ulp(mid), "threshold " + k + " is the midpoint to an ulp");
        }
        assertEquals(0, QuantType.NF4.encode(Float.NaN));
        assertEquals(0, QuantType.FP4.encode(Float.NaN));
    }

    @Test
    void dynamicMapTiesTakeTheEvenCode() {
        float[] c = DynamicMap.values();
        assertEquals(0xBF7E3333, Float.floatToRawIntBits(c[0]));
        assertEquals(0f, c[127]);
        assertEquals(1f, c[255]);
        for (int k = 0; k < 255; k++) {
            float mid = (c[k] + c[k + 1]) * 0.5f;
            int even = (k & 1) == 0 ? k : k + 1;
            assertEquals(even, DynamicMap.encode(mid), "midpoint " + k);
            assertEquals(k, DynamicMap.encode(Math.nextDown(mid)));
            assertEquals(k + 1, DynamicMap.encode(Math.nextUp(mid)));
            assertEquals(k, DynamicMap.encode(c[k]));
        }
        assertEquals(0, DynamicMap.encode(-2f));
        assertEquals(255, DynamicMap.encode(2f));
        assertEquals(0, DynamicMap.encode(Float.NaN));
    }

    @Test
    void nf4WithDoubleQuantAtBlock64IsExactly4127BitsPerParameterAt4096Squared() {
        try (Tensor w = Tensor.zeros(DType.BF16, 4096, 4096); FourBitWeight q = FourBitWeight.quantize(w, QuantType.NF4, 64, true)) {
            // packed n/2 + one code per block + 4 bytes per 256 blocks + 256-entry nested map + 16-entry map
            long n = 4096L * 4096;
            long nb = n / 64;
            assertEquals(n / 2 + nb + 4 * (nb / 256) + 1024 + 64, q.footprintBytes());
            assertEquals(8_655_936L, q.footprintBytes());
            assertEquals(4.127471923828125, q.bitsPerParameter(), 0.0);
        }
        try (Tensor w = Tensor.zeros(DType.F32, 4096, 4096); FourBitWeight q = FourBitWeight.quantize(w, QuantType.NF4, 64, false)) {
            assertEquals(4.500030517578125, q.bitsPerParameter(), 0.0);
        }
    }

    @Test
    void zeroBlocksGiveCodeZeroAndNegativeZero() {
        try (Tensor w = Tensor.zeros(DType.F32, 128); FourBitWeight q = FourBitWeight.quantize(w, QuantType.NF4, 64, false);
             Tensor d = q.dequantize(DType.F32)) {
            for (int i = 0; i < 64; i++) {
                assertEquals(0, q.packed().getFlat(i));
            }
            assertEquals(0x80000000, Float.floatToRawIntBits(d.getFlat(5)), "-1.0 * 0 is -0.0");
        }
    }

    @Test
    void badArgumentsAreNamed() {
        try (Tensor w = Tensor.zeros(DType.F32, 10); Tensor i = Tensor.zeros(DType.I32, 10)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> FourBitWeight.quantize(w, QuantType.NF4, 48, false));
            assertTrue(e.getMessage().contains("48") && e.getMessage().contains("[32, 64"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> FourBitWeight.quantize(i, QuantType.NF4, 64, false));
            assertTrue(e.getMessage().contains("I32"), e.getMessage());
        }
    }
}
