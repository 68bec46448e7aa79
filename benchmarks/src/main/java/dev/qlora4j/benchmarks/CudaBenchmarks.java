package dev.qlora4j.benchmarks;

import dev.qlora4j.cuda.CudaProbe;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Tensor;

import java.util.SplittableRandom;

/** What the CUDA benchmarks share: the device, a refusal to run without one, random tensors on it. */
final class CudaBenchmarks {
    static final Device DEVICE = Device.cuda(0);

    private CudaBenchmarks() {
    }

    /**
     * The device, checked to be a real GPU; a benchmark waits for its queue with {@link Device#synchronize()}.
     *
     * @throws IllegalStateException when no real GPU is usable (the host emulator does not count:
     *                               its timings mean nothing)
     */
    static Device device() {
        CudaProbe.Result r = CudaProbe.run();
        if (!r.usable() || r.emulated()) {
            throw new IllegalStateException("CUDA benchmarks need a GPU: " + r.detail());
        }
        return DEVICE.requireUsable();
    }

    /** N(0, scale²) values of {@code dtype} [rows, cols], made on the host and copied to the GPU. */
    static Tensor gaussian(long seed, double scale, DType dtype, int rows, int cols) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        try (Tensor host = Tensor.of(dtype, v, rows, cols)) {
            return host.to(DEVICE);
        }
    }
}
