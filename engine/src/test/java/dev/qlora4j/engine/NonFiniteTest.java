package dev.qlora4j.engine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** NaN and ±Inf found by their bits in every floating dtype, against Float.isFinite on each value. */
class NonFiniteTest {
    @Test
    void countsAndFirstIndexMatchFloatIsFiniteInEveryDtype() {
        float[] v = new float[1000];
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian() * 1000;
        }
        v[17] = Float.NaN;
        v[400] = Float.POSITIVE_INFINITY;
        v[999] = Float.NEGATIVE_INFINITY;
        v[5] = Float.MAX_VALUE;  // finite in F32, infinite once rounded to F16 (and BF16)
        for (DType t : new DType[]{DType.F32, DType.BF16, DType.F16}) {
            try (Tensor x = Tensor.of(t, v, 10, 100)) {
                long count = 0;
                long first = -1;
                for (long i = 0; i < x.numel(); i++) {
                    if (!Float.isFinite(x.getFlat(i))) {
                        first = first < 0 ? i : first;
                        count++;
                    }
                }
                NonFinite n = NonFinite.of(x);
                assertEquals(new NonFinite(count, first), n, t.toString());
                assertTrue(count >= 3, t + ": " + count);
                try (Tensor col = x.transpose(0, 1)) {
                    // A strided view is scanned in its own row-major order.
                    long firstT = -1;
                    for (long i = 0; i < col.numel() && firstT < 0; i++) {
                        firstT = Float.isFinite(col.getFlat(i)) ? -1 : i;
                    }
                    assertEquals(firstT, NonFinite.of(col).first());
                }
            }
        }
        try (Tensor ids = Tensor.of(new int[]{1, 2}, 2)) {
            assertThrows(IllegalArgumentException.class, () -> NonFinite.of(ids));
        }
    }
}
