package dev.qlora4j.engine;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The NaN and infinite elements of a floating-point tensor: how many, and the row-major index of the
 * first. Read straight from the stored bits (an exponent of all ones), so that a BF16 or F16 weight
 * is checked without being widened, and a model's weights can be checked as they are read.
 *
 * @param count how many elements are NaN or ±Inf
 * @param first the row-major index of the first of them, or -1 when there is none
 */
public record NonFinite(long count, long first) {
    /** Whether every element is finite. */
    public boolean none() {
        return count == 0;
    }

    /**
     * Scans {@code t} (F32, BF16 or F16; a GPU tensor is copied to the host first).
     *
     * @throws IllegalArgumentException for a tensor that is not floating point
     */
    public static NonFinite of(Tensor t) {
        t.checkOpen("NonFinite.of");
        if (!t.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("NonFinite.of " + t.describe() + ": expected F32, BF16 or F16");
        }
        try (Tensor host = t.device().equals(Device.CPU) ? t.contiguous() : t.to(Device.CPU)) {
            MemorySegment s = host.segment();
            long base = host.byteOffset();
            long n = host.numel();
            long count = 0;
            long first = -1;
            for (long i = 0; i < n; i++) {
                boolean bad = switch (host.dtype()) {
                    case F32 -> (s.get(ValueLayout.JAVA_INT_UNALIGNED, base + 4 * i) & 0x7F800000) == 0x7F800000;
                    case BF16 -> (s.get(ValueLayout.JAVA_SHORT_UNALIGNED, base + 2 * i) & 0x7F80) == 0x7F80;
                    default -> (s.get(ValueLayout.JAVA_SHORT_UNALIGNED, base + 2 * i) & 0x7C00) == 0x7C00;
                };
                if (bad) {
                    if (first < 0) {
                        first = i;
                    }
                    count++;
                }
            }
            return new NonFinite(count, first);
        }
    }

    /** "3 NaN or infinite values, the first at index 17", for a message. */
    public String describe() {
        return count + " NaN or infinite value" + (count == 1 ? "" : "s") + ", the first at index " + first;
    }
}
