package dev.qlora4j.engine.cuda;

import dev.qlora4j.cuda.CudaProbe;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.device.BackendConformanceTest;
import dev.qlora4j.engine.spi.Backend;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link BackendConformanceTest} on the CUDA host emulator (cuda/emulator/), which runs the same kernel sources
 * on the CPU behind the CUDA runtime's API; skipped unless the emulator is what loaded.
 */
@Tag("cuda-emulated")
class EmulatedCudaBackendConformanceTest extends BackendConformanceTest {
    @BeforeEach
    void needsTheEmulator() {
        CudaProbe.Result r = CudaProbe.run();
        assumeTrue(r.usable() && r.emulated(), "the CUDA host emulator is not loaded: " + r.detail());
    }

    @Override
    protected Device device() {
        return Device.cuda(0);
    }

    @Override
    protected Backend backend() {
        return CudaBackend.of(device());
    }

    @org.junit.jupiter.api.Test
    void theEmulatorReadsPtxOnlySoTheFatbinFallsBackToIt() {
        // The fatbin is tried first; the emulator refuses it (it parses PTX), and the loader falls
        // back to the PTX without leaving the refusal as the runtime's last error.
        CudaModule engine = CudaBackend.of(device()).context().module("dev/qlora4j/engine/cuda/kernels.ptx",
                () -> CudaBackend.class.getResourceAsStream("kernels.ptx"),
                () -> CudaBackend.class.getResourceAsStream("kernels.fatbin"));
        org.junit.jupiter.api.Assertions.assertEquals("ptx", engine.format());
        org.junit.jupiter.api.Assertions.assertEquals(0, dev.qlora4j.cuda.cuda_runtime_h.cudaGetLastError());
    }
}
