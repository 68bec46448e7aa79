package dev.qlora4j.nf4;

/**
 * The two 4-bit codebooks of bitsandbytes, with their encoders exactly as its CUDA kernels decide:
 * NF4 counts the thresholds strictly below the scaled value (a tie goes to the lower code, NaN to
 * code 0); FP4 takes the sign from {@code x < 0} and ranks the magnitude against seven fixed
 * thresholds. Values are the exact f32 patterns bitsandbytes hard-codes.
 */
public enum QuantType {
    /** QLoRA's 4-bit NormalFloat: normal-distribution quantiles scaled to [-1, 1], with an exact 0 at code 7. */
    NF4(new int[]{
            0xBF800000, 0xBF3239B1, 0xBF066B30, 0xBECA32A0, 0xBE91A24D, 0xBE3D353F, 0xBDBA7871, 0x00000000,
            0x3DA2FAFF, 0x3E24CAE3, 0x3E7C04DD, 0x3EAD033A, 0x3EE1A4B8, 0x3F1007AB, 0x3F3913B3, 0x3F800000}),
    /** A 4-bit float: a sign bit and an e2m1 magnitude, scaled so that the largest is 1. */
    FP4(new int[]{
            // Bit 3 is the sign; bits 2..0 index e2m1 magnitudes {0, 0.0625, 8, 12, 4, 6, 2, 3} / 12.
            0x00000000, 0x3BAAAAAB, 0x3F2AAAAB, 0x3F800000, 0x3EAAAAAB, 0x3F000000, 0x3E2AAAAB, 0x3E800000,
            0x80000000, 0xBBAAAAAB, 0xBF2AAAAB, 0xBF800000, 0xBEAAAAAB, 0xBF000000, 0xBE2AAAAB, 0xBE800000});

    /**
     * NF4 decision thresholds between codes k and k+1: the decimal literals of bitsandbytes'
     * {@code dQuantizeNF4}, each rounded once to the nearest f32 as nvcc (and javac) round a float
     * literal. Four of them (k = 0, 8, 12, 14) lie exactly halfway between two f32 values, so a
     * detour through double rounds them the other way; the single rounding is what the CUDA kernel
     * compares against.
     */
    private static final float[] NF4_THRESHOLDS = {
            -0.8480964004993439f, -0.6106329262256622f, -0.4599952697753906f, -0.33967943489551544f,
            -0.23460740596055984f, -0.13791173323988914f, -0.045525018125772476f, 0.03979014977812767f,
            0.1202552504837513f, 0.2035212516784668f, 0.2920137718319893f, 0.3893125355243683f,
            0.5016634166240692f, 0.6427869200706482f, 0.8614784181118011f};

    /** FP4 magnitude thresholds: bitsandbytes' literals, not the midpoints (five differ by 1-2 ulp). */
    private static final float[] FP4_THRESHOLDS = floats(
            0x3B2AAAB9, 0x3DB00000, 0x3E555555, 0x3E955555, 0x3ED55556, 0x3F155550, 0x3F555555);

    /** FP4 low three bits for each magnitude rank 0..7. */
    private static final int[] FP4_RANK_BITS = {0b000, 0b001, 0b110, 0b111, 0b100, 0b101, 0b010, 0b011};

    private final float[] values;

    QuantType(int[] bits) {
        this.values = floats(bits);
    }

    private static float[] floats(int... bits) {
        float[] f = new float[bits.length];
        for (int i = 0; i < bits.length; i++) {
            f[i] = Float.intBitsToFloat(bits[i]);
        }
        return f;
    }

    /** NF4's threshold between codes k and k+1 (a value equal to it takes code k). */
    static float nf4Threshold(int k) {
        return NF4_THRESHOLDS[k];
    }

    /** The dequantization value of each code (FP4 code 8 is -0.0, as the CUDA kernel computes it). */
    public float value(int code) {
        return values[code];
    }

    /** A copy of the 16 dequantization values, indexed by code. */
    public float[] codeValues() {
        return values.clone();
    }

    /**
     * The {@code quant_map} a checkpoint stores: the dequantization values, except that FP4's code 8
     * is stored as +0.0 (the Python literal -0 in bitsandbytes' table is the integer 0).
     */
    public float[] quantMap() {
        float[] m = values.clone();
        if (this == FP4) {
            m[8] = 0f;
        }
        return m;
    }

    /** The code bitsandbytes' CUDA kernel gives a value already scaled by 1/absmax. */
    public int encode(float s) {
        if (this == NF4) {
            int code = 0;
            for (float t : NF4_THRESHOLDS) {
                code += s > t ? 1 : 0;
            }
            return code;
        }
        int sign = s < 0 ? 8 : 0;
        float m = Math.abs(s);
        int rank = 0;
        for (float t : FP4_THRESHOLDS) {
            rank += m > t ? 1 : 0;
        }
        return FP4_RANK_BITS[rank] | sign;
    }

    /** "nf4" or "fp4", as in the quant_state JSON and the key suffix. */
    public String jsonName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * @throws IllegalArgumentException naming the accepted names
     */
    public static QuantType fromJsonName(String name) {
        for (QuantType t : values()) {
            if (t.jsonName().equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("4-bit quant_type \"" + name + "\": expected \"nf4\" or \"fp4\"");
    }
}
