package dev.qlora4j.engine.cuda;

import dev.qlora4j.cuda.CudaProbe;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.device.BackendConformanceTest;
import dev.qlora4j.engine.spi.Backend;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@link BackendConformanceTest} on CUDA device 0; skipped where no GPU is usable. */
@Tag("cuda")
class CudaBackendConformanceTest extends BackendConformanceTest {
    @BeforeEach
    void needsAGpu() {
        CudaProbe.Result r = CudaProbe.run();
        assumeTrue(r.usable() && !r.emulated(), "no usable CUDA GPU: " + r.detail());
    }

    @Override
    protected Device device() {
        return Device.cuda(0);
    }

    @Override
    protected Backend backend() {
        return CudaBackend.of(device());
    }
}
