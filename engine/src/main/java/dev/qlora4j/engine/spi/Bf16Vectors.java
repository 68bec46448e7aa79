package dev.qlora4j.engine.spi;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * bf16 in vector registers, at {@link VectorWidth}: widening (exact) and round-to-nearest-even
 * narrowing. The scalar forms are {@link dev.qlora4j.engine.FloatBits}; the test kit's {@code CastReference} is
 * the oracle for both.
 */
public final class Bf16Vectors {
    private Bf16Vectors() {
    }

    /** L bf16 values at byte offset {@code at}, widened to f32: bf16 is the high half of an f32. */
    public static FloatVector widen(MemorySegment s, long at) {
        ShortVector h = ShortVector.fromMemorySegment(VectorWidth.HALF_SHORTS, s, at, ByteOrder.LITTLE_ENDIAN);
        return ((IntVector) h.convertShape(VectorOperators.S2I, VectorWidth.INTS, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** {@link #round(IntVector)} of a float vector. */
    public static ShortVector round(FloatVector v) {
        return round(v.reinterpretAsInts());
    }

    /**
     * Round-to-nearest-even of f32 bit patterns to bf16: add 0x7FFF plus the lowest kept bit, keep
     * the high half. NaN lanes keep their high half with the quiet bit set instead, so rounding never
     * turns a NaN into infinity.
     */
    public static ShortVector round(IntVector bits) {
        IntVector lsb = bits.lanewise(VectorOperators.LSHR, 16).and(1);
        IntVector rounded = bits.add(lsb).add(0x7FFF).lanewise(VectorOperators.LSHR, 16);
        VectorMask<Integer> nan = bits.and(0x7FFFFFFF).compare(VectorOperators.GT, 0x7F800000);
        IntVector quiet = bits.lanewise(VectorOperators.LSHR, 16).or(0x0040);
        return (ShortVector) rounded.blend(quiet, nan).convertShape(VectorOperators.I2S, VectorWidth.HALF_SHORTS, 0);
    }
}
