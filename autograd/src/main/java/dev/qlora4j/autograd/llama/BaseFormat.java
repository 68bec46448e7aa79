package dev.qlora4j.autograd.llama;

/** How the frozen linear weights of a model are stored. */
public enum BaseFormat {
    /** NF4 with double quantization, block 64 (QLoRA). */
    NF4,
    /** NF4 with one F32 absmax per block of 64: 0.5 bits/param more than {@link #NF4}. */
    NF4_NO_DOUBLE_QUANT,
    /** FP4 with double quantization, block 64. */
    FP4,
    /** LLM.int8 row-wise. */
    INT8,
    /** Dense BF16: 2 bytes/param. */
    BF16,
    /** Dense F32: 4 bytes/param. */
    F32;

    /** The name a user types: nf4, nf4-no-dq, fp4, int8, bf16, f32. */
    public String label() {
        return this == NF4_NO_DOUBLE_QUANT ? "nf4-no-dq" : name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The format a user named by {@link #label()}. */
    public static BaseFormat parse(String label) {
        for (BaseFormat f : values()) {
            if (f.label().equalsIgnoreCase(label)) {
                return f;
            }
        }
        throw new IllegalArgumentException("base format \"" + label + "\": expected one of nf4, nf4-no-dq, fp4, int8, bf16, f32");
    }

    /** Bytes this format stores for a [rows, cols] linear weight, quantization state included. */
    public long weightBytes(long rows, long cols) {
        return switch (this) {
            case NF4, FP4 -> dev.qlora4j.nf4.FourBitWeight.footprintBytes(rows * cols, 64, true);
            case NF4_NO_DOUBLE_QUANT -> dev.qlora4j.nf4.FourBitWeight.footprintBytes(rows * cols, 64, false);
            case INT8 -> dev.qlora4j.nf4.Int8Weight.footprintBytes(rows, cols);
            case BF16 -> rows * cols * 2;
            case F32 -> rows * cols * 4;
        };
    }
}
