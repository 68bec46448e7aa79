package dev.qlora4j.engine.cpu;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.FloatBits;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.testkit.CastReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * F32↔BF16↔F16 conversions against {@link CastReference}, which decodes by formula and rounds by
 * comparing distances to the neighbours in f64. Covers all 65,536 16-bit patterns, every tie
 * between neighbouring bf16 and f16 values, NaN, infinities and subnormals, through both the scalar
 * ({@link FloatBits}) and the vector (Ops.cast) paths.
 */
@Tag("kernels")
class CastRoundingTest {

    /** Inputs that probe rounding: exact values, ties, and one f32 ulp either side of each tie. */
    private static float[] probes() {
        java.util.ArrayList<Float> v = new java.util.ArrayList<>();
        for (int bits = 0; bits < 0x10000; bits++) {
            float exactBf16 = Float.intBitsToFloat(bits << 16);
            float tieBf16 = Float.intBitsToFloat((bits << 16) | 0x8000);
            v.add(exactBf16);
            v.add(tieBf16);
            v.add(Math.nextUp(tieBf16));
            v.add(Math.nextDown(tieBf16));
            double f16 = CastReference.decodeF16(bits);
            double f16Next = CastReference.decodeF16(bits + 1 & 0xFFFF);
            if (!Double.isNaN(f16) && !Double.isInfinite(f16) && !Double.isNaN(f16Next) && !Double.isInfinite(f16Next)
                    && Math.signum(f16) == Math.signum(f16Next)) {
                float tie = (float) ((f16 + f16Next) / 2); // exact: a binary16 midpoint fits in f32
                v.add((float) f16);
                v.add(tie);
                v.add(Math.nextUp(tie));
                v.add(Math.nextDown(tie));
            }
        }
        float[] specials = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, Float.intBitsToFloat(0x7FC00001),
                Float.intBitsToFloat(0xFF800001), 65504f, 65519.99f, 65520f, -65520f, 6.1035156e-5f, 5.9604645e-8f,
                2.9802322e-8f, 2.9802326e-8f, 8.940697e-8f};
        for (float s : specials) {
            v.add(s);
        }
        SplittableRandom r = new SplittableRandom(20);
        for (int i = 0; i < 100_000; i++) {
            v.add(Float.intBitsToFloat(r.nextInt()));
        }
        float[] out = new float[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i);
        }
        return out;
    }

    @Test
    void widening16BitPatternsIsExact() {
        for (int bits = 0; bits < 0x10000; bits++) {
            double bf = CastReference.decodeBf16(bits);
            double h = CastReference.decodeF16(bits);
            float gotBf = FloatBits.bf16ToFloat((short) bits);
            float gotH = FloatBits.f16ToFloat((short) bits);
            assertTrue(Double.isNaN(bf) ? Float.isNaN(gotBf) : gotBf == bf && sameSign(gotBf, bf), "bf16 " + bits);
            assertTrue(Double.isNaN(h) ? Float.isNaN(gotH) : gotH == h && sameSign(gotH, h), "f16 " + bits);
        }
        // The vector paths, over all 65,536 patterns at once.
        for (DType t : new DType[]{DType.BF16, DType.F16}) {
            try (Tensor p = Tensor.empty(t, 0x10000)) {
                for (int bits = 0; bits < 0x10000; bits++) {
                    p.segment().set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, p.byteOffset() + 2L * bits, (short) bits);
                }
                try (Tensor f = Ops.cast(p, DType.F32)) {
                    for (int bits = 0; bits < 0x10000; bits++) {
                        double ref = t == DType.BF16 ? CastReference.decodeBf16(bits) : CastReference.decodeF16(bits);
                        float got = f.getFlat(bits);
                        assertTrue(Double.isNaN(ref) ? Float.isNaN(got) : got == ref && sameSign(got, ref), t + " " + bits);
                    }
                }
            }
        }
    }

    @Test
    void narrowingRoundsToNearestEven() {
        float[] x = probes();
        try (Tensor src = Tensor.of(x, x.length); Tensor bf = Ops.cast(src, DType.BF16); Tensor h = Ops.cast(src, DType.F16)) {
            for (int i = 0; i < x.length; i++) {
                check("bf16", x[i], CastReference.roundToBf16(x[i]), FloatBits.floatToBf16(x[i]));
                check("bf16 vector", x[i], CastReference.roundToBf16(x[i]), bits(bf, i));
                check("f16", x[i], CastReference.roundToF16(x[i]), FloatBits.floatToF16(x[i]));
                check("f16 vector", x[i], CastReference.roundToF16(x[i]), bits(h, i));
            }
        }
    }

    @Test
    void bf16AndF16ConvertIntoEachOtherWithOneRounding() {
        for (DType[] pair : new DType[][]{{DType.BF16, DType.F16}, {DType.F16, DType.BF16}}) {
            try (Tensor p = Tensor.empty(pair[0], 0x10000)) {
                for (int bits = 0; bits < 0x10000; bits++) {
                    p.segment().set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, p.byteOffset() + 2L * bits, (short) bits);
                }
                try (Tensor q = Ops.cast(p, pair[1])) {
                    for (int bits = 0; bits < 0x10000; bits++) {
                        double v = pair[0] == DType.BF16 ? CastReference.decodeBf16(bits) : CastReference.decodeF16(bits);
                        int expected = pair[1] == DType.F16 ? CastReference.roundToF16(v) : CastReference.roundToBf16(v);
                        check(pair[1] == DType.F16 ? "f16 from bf16" : "bf16 from f16", (float) v, expected, bits(q, bits));
                    }
                }
            }
        }
    }

    @Test
    void roundTripThroughSixteenBitsKeepsRepresentableValues() {
        // (i - 128) / 2 needs at most 8 significant bits: every one is a bf16 value.
        try (Tensor p = Tensor.empty(DType.BF16, 256)) {
            for (int i = 0; i < 256; i++) {
                p.setFlat(i, (i - 128) * 0.5f);
            }
            try (Tensor f = Ops.cast(p, DType.F32); Tensor back = Ops.cast(f, DType.BF16)) {
                for (int i = 0; i < 256; i++) {
                    assertEquals((i - 128) * 0.5f, back.getFlat(i));
                }
            }
        }
    }

    private static short bits(Tensor t, int i) {
        return t.segment().get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, t.byteOffset() + 2L * i);
    }

    private static void check(String what, float x, int expected, short got) {
        int g = got & 0xFFFF;
        boolean expectedNaN = isNaN16(what, expected);
        if (expectedNaN ? !isNaN16(what, g) : g != expected) {
            fail(what + " of " + x + " (0x" + Integer.toHexString(Float.floatToRawIntBits(x)) + ") gave 0x"
                    + Integer.toHexString(g) + ", expected 0x" + Integer.toHexString(expected));
        }
    }

    private static boolean isNaN16(String what, int bits) {
        return what.startsWith("bf16") ? (bits & 0x7F80) == 0x7F80 && (bits & 0x7F) != 0
                : (bits & 0x7C00) == 0x7C00 && (bits & 0x3FF) != 0;
    }

    private static boolean sameSign(float a, double b) {
        return (Float.floatToRawIntBits(a) < 0) == (Double.doubleToRawLongBits(b) < 0);
    }
}
