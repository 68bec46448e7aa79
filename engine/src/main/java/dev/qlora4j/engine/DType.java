package dev.qlora4j.engine;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Element types of ordinary tensors. Quantized weights (NF4, FP4, row-wise INT8) are not dtypes:
 * they are their own types holding packed data plus quantization state.
 */
public enum DType {
    /** IEEE binary32. */
    F32(4, "F32", true),
    /** bfloat16: the top 16 bits of an f32 (8 exponent bits, 7 mantissa bits). */
    BF16(2, "BF16", true),
    /** IEEE binary16. */
    F16(2, "F16", true),
    /** Signed 8-bit integer. */
    I8(1, "I8", false),
    /** Unsigned 8-bit integer; also raw bytes, such as packed 4-bit codes. */
    U8(1, "U8", false),
    /** Signed 32-bit integer: token ids, targets. */
    I32(4, "I32", false);

    private final int byteSize;
    private final String safetensorsName;
    private final boolean floatingPoint;

    DType(int byteSize, String safetensorsName, boolean floatingPoint) {
        this.byteSize = byteSize;
        this.safetensorsName = safetensorsName;
        this.floatingPoint = floatingPoint;
    }

    /** Bytes one element occupies. */
    public int byteSize() {
        return byteSize;
    }

    /** The dtype's name in a safetensors header ("F32", "BF16", ...). */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** True for F32, BF16 and F16. */
    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /** One element at {@code byteOffset}, converted to float (16-bit floats widen exactly). */
    public float readFloat(MemorySegment s, long byteOffset) {
        return switch (this) {
            case F32 -> s.get(ValueLayout.JAVA_FLOAT_UNALIGNED, byteOffset);
            case BF16 -> FloatBits.bf16ToFloat(s.get(ValueLayout.JAVA_SHORT_UNALIGNED, byteOffset));
            case F16 -> FloatBits.f16ToFloat(s.get(ValueLayout.JAVA_SHORT_UNALIGNED, byteOffset));
            case I8 -> s.get(ValueLayout.JAVA_BYTE, byteOffset);
            case U8 -> Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, byteOffset));
            case I32 -> s.get(ValueLayout.JAVA_INT_UNALIGNED, byteOffset);
        };
    }

    /**
     * Stores {@code v} as one element at {@code byteOffset}: 16-bit floats round to nearest-even;
     * integer types round to nearest-even and saturate to their range, NaN giving 0 (the rule of a
     * cast, not of an exact store: {@link Tensor#setFloat} rejects inexact integers first).
     */
    public void writeFloat(MemorySegment s, long byteOffset, float v) {
        switch (this) {
            case F32 -> s.set(ValueLayout.JAVA_FLOAT_UNALIGNED, byteOffset, v);
            case BF16 -> s.set(ValueLayout.JAVA_SHORT_UNALIGNED, byteOffset, FloatBits.floatToBf16(v));
            case F16 -> s.set(ValueLayout.JAVA_SHORT_UNALIGNED, byteOffset, FloatBits.floatToF16(v));
            case I8 -> s.set(ValueLayout.JAVA_BYTE, byteOffset, (byte) saturate(v, -128, 127));
            case U8 -> s.set(ValueLayout.JAVA_BYTE, byteOffset, (byte) saturate(v, 0, 255));
            case I32 -> s.set(ValueLayout.JAVA_INT_UNALIGNED, byteOffset, (int) Math.rint(v));
        }
    }

    private static int saturate(float v, int min, int max) {
        return (int) Math.max(min, Math.min(max, Math.rint(v)));
    }

    /**
     * The dtype a safetensors header names.
     *
     * @throws IllegalArgumentException naming the dtype and the supported ones when it is not one of them
     */
    public static DType fromSafetensorsName(String name) {
        for (DType t : values()) {
            if (t.safetensorsName.equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unsupported dtype \"" + name + "\": expected one of "
                + java.util.Arrays.toString(values()));
    }
}
