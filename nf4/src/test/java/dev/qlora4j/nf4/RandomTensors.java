package dev.qlora4j.nf4;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Tensor;

import java.util.SplittableRandom;

/** Normally distributed test tensors. */
final class RandomTensors {
    private RandomTensors() {
    }

    static Tensor gaussian(SplittableRandom r, DType t, double scale, int... dims) {
        int n = 1;
        for (int d : dims) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        return Tensor.of(t, v, dims);
    }
}
