package dev.qlora4j.nf4;

import dev.qlora4j.cuda.CudaProbe;
import dev.qlora4j.engine.Device;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@link CudaQuantizedConformance} on CUDA device 0; skipped where no GPU is usable. */
@Tag("cuda")
class CudaQuantizedTest extends CudaQuantizedConformance {
    @BeforeEach
    void needsAGpu() {
        CudaProbe.Result r = CudaProbe.run();
        assumeTrue(r.usable() && !r.emulated(), "no usable CUDA GPU: " + r.detail());
    }

    @Override
    Device device() {
        return Device.cuda(0);
    }
}
