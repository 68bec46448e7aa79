package dev.qlora4j.engine.spi;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector species every CPU kernel uses. The width is the platform's preferred one unless the
 * system property {@code qlora4j.vector.bits} forces 128, 256 or 512 — the tests run the kernels at
 * each width that way. Fixed per JVM: the JIT only compiles vector code to SIMD instructions when
 * the species is a constant, so it lives in {@code static final} fields.
 */
public final class VectorWidth {
    /** Property that forces the vector width in bits. */
    public static final String PROPERTY = "qlora4j.vector.bits";

    /** Bits per vector register the kernels use. */
    public static final int BITS = chooseBits();

    /** f32 lanes. */
    public static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED.vectorBitSize() == BITS
            ? FloatVector.SPECIES_PREFERRED
            : VectorSpecies.of(float.class, VectorShape.forBitSize(BITS));

    /** i32 lanes, as many as {@link #FLOATS}: bit patterns of floats. */
    public static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED.vectorBitSize() == BITS
            ? IntVector.SPECIES_PREFERRED
            : VectorSpecies.of(int.class, VectorShape.forBitSize(BITS));

    /** 16-bit lanes, as many as {@link #FLOATS}: bf16/f16 values that widen to one float vector. */
    public static final VectorSpecies<Short> HALF_SHORTS = VectorSpecies.of(short.class, VectorShape.forBitSize(BITS / 2));

    private VectorWidth() {
    }

    private static int chooseBits() {
        int preferred = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        String forced = System.getProperty(PROPERTY);
        if (forced == null || forced.isBlank()) {
            return preferred;
        }
        int bits;
        try {
            bits = Integer.parseInt(forced.trim());
        } catch (NumberFormatException e) {
            bits = -1;
        }
        if (bits != 128 && bits != 256 && bits != 512) {
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + forced + ": expected 128, 256 or 512");
        }
        return bits;
    }

    /**
     * The sum of v's lanes, added in lane order. Not {@code reduceLanes(ADD)}: its order is
     * unspecified, and its interpreted and JIT-compiled forms differ in the last bits, so a result
     * would depend on when the JIT got to a kernel — and a resumed training run would not repeat an
     * uninterrupted one bit for bit.
     */
    public static float sumLanes(jdk.incubator.vector.FloatVector v) {
        float s = 0;
        for (int i = 0; i < v.length(); i++) {
            s += v.lane(i);
        }
        return s;
    }
}
