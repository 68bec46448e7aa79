package dev.qlora4j.nf4;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The absmax of each block of a 4-bit weight, read straight from its stored state: the f32 value,
 * or under double quantization {@code fl32(fl32(code[q] * nestedAbsmax[b/256]) + offset)}. Small
 * enough for the JIT to inline into the decoding loops, which call it once per block.
 *
 * @param codes   F32 absmax values, or U8 nested codes with double quantization, from byte {@code codesBase}
 * @param nested  F32 nested absmax values from byte {@code nestedBase}; unused without double quantization
 * @param map     the 256-value nested code map, or null without double quantization
 */
record BlockScales(MemorySegment codes, long codesBase, MemorySegment nested, long nestedBase, float[] map,
                   float offset) {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    float of(long block) {
        if (map == null) {
            return codes.get(F32, codesBase + block * Float.BYTES);
        }
        int q = Byte.toUnsignedInt(codes.get(ValueLayout.JAVA_BYTE, codesBase + block));
        return map[q] * nested.get(F32, nestedBase + (block / FourBitWeight.NESTED_BLOCKSIZE) * Float.BYTES) + offset;
    }
}
