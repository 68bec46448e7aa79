package dev.qlora4j.autograd;

import dev.qlora4j.engine.Tensor;

import java.util.SplittableRandom;

/** Normally distributed F32 test tensors. */
final class TestTensors {
    private TestTensors() {
    }

    static Tensor gaussian(SplittableRandom r, double scale, int... dims) {
        int n = 1;
        for (int d : dims) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        return Tensor.of(v, dims);
    }
}
