package dev.qlora4j.testkit;

/**
 * The oracle for 16-bit float conversions, written from the IEEE 754 definitions rather than from
 * bit tricks: decode a pattern by its formula, and round by finding the two representable
 * neighbours and choosing the nearer (the one with an even last bit on a tie), all in f64.
 */
public final class CastReference {
    private CastReference() {
    }

    /** Value of an IEEE binary16 pattern: sign · 2^(e-15) · (1 + m/1024), or 2^-14 · m/1024 when subnormal. */
    public static double decodeF16(int bits) {
        int sign = (bits >> 15) & 1;
        int exp = (bits >> 10) & 0x1F;
        int man = bits & 0x3FF;
        double v;
        if (exp == 0x1F) {
            v = man == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (exp == 0) {
            v = Math.scalb(man / 1024.0, -14);
        } else {
            v = Math.scalb(1 + man / 1024.0, exp - 15);
        }
        return sign == 1 ? -v : v;
    }

    /** Value of a bfloat16 pattern: sign · 2^(e-127) · (1 + m/128), or 2^-126 · m/128 when subnormal. */
    public static double decodeBf16(int bits) {
        int sign = (bits >> 15) & 1;
        int exp = (bits >> 7) & 0xFF;
        int man = bits & 0x7F;
        double v;
        if (exp == 0xFF) {
            v = man == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (exp == 0) {
            v = Math.scalb(man / 128.0, -126);
        } else {
            v = Math.scalb(1 + man / 128.0, exp - 127);
        }
        return sign == 1 ? -v : v;
    }

    /** Round-to-nearest-even of x to bfloat16; NaN gives a NaN pattern. */
    public static int roundToBf16(double x) {
        return round(x, 8, 127, 0x7F80);
    }

    /** Round-to-nearest-even of x to binary16; NaN gives a NaN pattern. */
    public static int roundToF16(double x) {
        return round(x, 5, 15, 0x7C00);
    }

    /**
     * Nearest-even rounding to a 16-bit format with {@code expBits} exponent bits and bias
     * {@code bias}: the finite non-negative patterns are ordered like their values, so a binary search
     * finds the neighbours; past the largest finite value, a magnitude of at least max + half an ulp
     * rounds to infinity (IEEE's overflow rule).
     */
    private static int round(double x, int expBits, int bias, int infinity) {
        if (Double.isNaN(x)) {
            return infinity | 0x40;
        }
        int sign = x < 0 || (x == 0 && 1 / x < 0) ? 0x8000 : 0;
        double m = Math.abs(x);
        int manBits = 15 - expBits;
        int maxFinite = infinity - 1;
        double maxValue = decode(maxFinite, manBits, bias);
        double ulpAtMax = Math.scalb(1.0, ((1 << expBits) - 2) - bias - manBits);
        if (m >= maxValue + ulpAtMax / 2) {
            return sign | infinity;
        }
        int lo = 0;
        int hi = maxFinite;
        while (lo < hi) { // largest pattern with value <= m
            int mid = (lo + hi + 1) >>> 1;
            if (decode(mid, manBits, bias) <= m) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        if (lo == maxFinite) {
            return sign | lo;
        }
        double below = decode(lo, manBits, bias);
        double above = decode(lo + 1, manBits, bias);
        double dBelow = m - below;
        double dAbove = above - m;
        int chosen = dBelow < dAbove ? lo : dAbove < dBelow ? lo + 1 : ((lo & 1) == 0 ? lo : lo + 1);
        return sign | chosen;
    }

    private static double decode(int bits, int manBits, int bias) {
        int exp = bits >> manBits;
        int man = bits & ((1 << manBits) - 1);
        double frac = man / (double) (1 << manBits);
        return exp == 0 ? Math.scalb(frac, 1 - bias) : Math.scalb(1 + frac, exp - bias);
    }
}
