package dev.qlora4j.engine;

/**
 * Element types of ordinary tensors. Quantized weights (NF4, FP4, row-wise INT8) are not dtypes:
 * they are their own types holding packed data plus quantization state.
 */
public enum DType {
    F32(4, "F32", true),
    BF16(2, "BF16", true),
    F16(2, "F16", true),
    I8(1, "I8", false),
    U8(1, "U8", false),
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

    public boolean isFloatingPoint() {
        return floatingPoint;
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
