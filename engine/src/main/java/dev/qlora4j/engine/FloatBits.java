package dev.qlora4j.engine;

/**
 * Scalar conversions between f32 and the 16-bit float formats, plus reading and writing one element
 * of any dtype as a float. Rounding to 16 bits is round-to-nearest, ties to even; NaN stays NaN.
 */
public final class FloatBits {
    private FloatBits() {
    }

    /** bf16 is the top half of an f32: widening is exact. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    /**
     * Rounds to the nearest bf16, ties to even. Adding 0x7FFF plus the lowest kept bit rounds the
     * discarded half up exactly when it is above half, or exactly half with an odd kept part. NaN is
     * kept quiet (a truncated NaN payload could otherwise read as infinity).
     */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /** IEEE binary16 to f32: widening is exact. */
    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** IEEE binary16, round-to-nearest-even (the JDK's conversion, which the JIT maps to vcvtps2ph). */
    public static short floatToF16(float f) {
        return Float.floatToFloat16(f);
    }
}
