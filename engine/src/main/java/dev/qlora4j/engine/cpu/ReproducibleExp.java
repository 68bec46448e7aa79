package dev.qlora4j.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * e^x in float, from additions, multiplications and bit shifts only, so it gives the same bits in
 * the interpreter, C1 and C2, at every vector width and on every CPU. {@code lanewise(EXP)} does
 * not: C2 replaces it with a vendor math library whose last bit differs from the fallback the other
 * tiers run, which made training depend on when the JIT compiled what.
 *
 * <p>Method (Cephes' expf): n = round(x·log2 e), r = x − n·ln 2 in two parts (the high part has few
 * enough bits that n·ln2_hi is exact), e^r ≈ 1 + r + r²·P(r) with a degree-5 P, then ·2ⁿ built from
 * the exponent bits in two halves so that n = 128 (overflow to +∞) and subnormal results come out
 * right. Relative error is within 2 ulp on the whole float range; NaN stays NaN, e^−∞ = 0, e^∞ = ∞.
 * {@link #exp(float)} is the scalar form of the same steps, used for loop tails, so a value's bits
 * do not depend on where in a row it sits.
 */
final class ReproducibleExp {
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;
    /** Adding then subtracting 1.5·2²³ rounds a float of magnitude below 2²² to the nearest integer. */
    private static final float ROUNDER = 12582912f;
    /** Beyond these, e^x is +∞ or 0 in float; clamping keeps n within what two exponent halves hold. */
    private static final float HIGHEST = 89f;
    private static final float LOWEST = -104f;

    private ReproducibleExp() {
    }

    static FloatVector exp(FloatVector x) {
        FloatVector c = x.max(LOWEST).min(HIGHEST);
        FloatVector n = c.mul(LOG2E).add(ROUNDER).sub(ROUNDER);
        FloatVector r = c.sub(n.mul(LN2_HI)).sub(n.mul(LN2_LO));
        FloatVector z = r.mul(r);
        FloatVector p = r.mul(P0).add(P1).mul(r).add(P2).mul(r).add(P3).mul(r).add(P4).mul(r).add(P5)
                .mul(z).add(r).add(1f);
        IntVector k = (IntVector) n.convert(VectorOperators.F2I, 0);
        IntVector half = k.lanewise(VectorOperators.ASHR, 1);
        FloatVector scaleA = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector scaleB = k.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector e = p.mul(scaleA).mul(scaleB);
        // A NaN lane's integer conversion is undefined across tiers; its answer is NaN.
        return e.blend(x, x.test(VectorOperators.IS_NAN));
    }

    static float exp(float x) {
        if (Float.isNaN(x)) {
            return x;
        }
        float c = Math.min(Math.max(x, LOWEST), HIGHEST);
        float n = c * LOG2E + ROUNDER - ROUNDER;
        float r = c - n * LN2_HI - n * LN2_LO;
        float z = r * r;
        float p = (((((r * P0 + P1) * r + P2) * r + P3) * r + P4) * r + P5) * z + r + 1f;
        int k = (int) n;
        int half = k >> 1;
        return p * Float.intBitsToFloat((half + 127) << 23) * Float.intBitsToFloat((k - half + 127) << 23);
    }
}
