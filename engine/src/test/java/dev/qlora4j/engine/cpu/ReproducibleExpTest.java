package dev.qlora4j.engine.cpu;

import dev.qlora4j.engine.spi.VectorWidth;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reproducible e^x against f64 {@link StrictMath#exp}, and its vector form against its scalar form, bit for bit. */
class ReproducibleExpTest {
    @Test
    void withinTwoUlpOfTheF64ResultAcrossTheWholeFloatRange() {
        double worst = 0;
        float worstAt = 0;
        for (float x : samples()) {
            double exact = StrictMath.exp(x);
            float got = ReproducibleExp.exp(x);
            float rounded = (float) exact;
            if (rounded == 0f || Float.isInfinite(rounded)) {
                assertEquals(rounded, got, Float.MIN_VALUE, () -> "exp(" + x + ")");
                continue;
            }
            // Subnormal results have a fixed absolute ulp; Math.ulp(rounded) is that ulp there too.
            double ulps = Math.abs(got - exact) / Math.ulp(rounded);
            if (ulps > worst) {
                worst = ulps;
                worstAt = x;
            }
        }
        assertTrue(worst <= 2, "worst error " + worst + " ulp at x = " + worstAt);
    }

    @Test
    void specialValues() {
        assertTrue(Float.isNaN(ReproducibleExp.exp(Float.NaN)));
        assertEquals(Float.POSITIVE_INFINITY, ReproducibleExp.exp(Float.POSITIVE_INFINITY));
        assertEquals(0f, ReproducibleExp.exp(Float.NEGATIVE_INFINITY));
        assertEquals(1f, ReproducibleExp.exp(0f));
        assertEquals(1f, ReproducibleExp.exp(-0f));
        assertEquals(Float.POSITIVE_INFINITY, ReproducibleExp.exp(88.73f), "e^88.73 exceeds Float.MAX_VALUE");
        assertEquals((float) StrictMath.exp(88.72f), ReproducibleExp.exp(88.72f), Math.ulp((float) StrictMath.exp(88.72f)) * 2);
    }

    @Test
    void everyLaneEqualsTheScalarFormBitForBit() {
        float[] xs = samples();
        int lanes = VectorWidth.FLOATS.length();
        float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 88.73f, -103.9f, -87.5f, 1e-30f};
        System.arraycopy(specials, 0, xs, 0, specials.length);
        float[] out = new float[lanes];
        for (int i = 0; i + lanes <= xs.length; i += lanes) {
            ReproducibleExp.exp(FloatVector.fromArray(VectorWidth.FLOATS, xs, i)).intoArray(out, 0);
            for (int l = 0; l < lanes; l++) {
                float x = xs[i + l];
                assertEquals(Float.floatToRawIntBits(ReproducibleExp.exp(x)), Float.floatToRawIntBits(out[l]),
                        () -> "exp(" + x + ")");
            }
        }
    }

    /** Evenly spread bit patterns over [-110, 90], plus random ones near 0 and the ends. */
    private static float[] samples() {
        SplittableRandom random = new SplittableRandom(7);
        float[] xs = new float[1 << 18];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = switch (i % 3) {
                case 0 -> -110f + 200f * i / xs.length;
                case 1 -> (float) random.nextDouble(-1, 1);
                default -> (float) random.nextDouble(-105, 90);
            };
        }
        return xs;
    }
}
