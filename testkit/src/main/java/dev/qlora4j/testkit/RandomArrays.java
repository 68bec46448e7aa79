package dev.qlora4j.testkit;

import java.util.SplittableRandom;

/** Seeded random inputs for tests, as arrays a test turns into tensors of the shape it needs. */
public final class RandomArrays {
    private RandomArrays() {
    }

    /** {@code n} values uniform in [lo, hi). */
    public static float[] uniform(SplittableRandom r, int n, double lo, double hi) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (lo + r.nextDouble() * (hi - lo));
        }
        return v;
    }

    /** The number of elements of a tensor of shape {@code dims}. */
    public static int count(int... dims) {
        int n = 1;
        for (int d : dims) {
            n *= d;
        }
        return n;
    }
}
