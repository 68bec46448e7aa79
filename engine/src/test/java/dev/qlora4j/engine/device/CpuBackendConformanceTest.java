package dev.qlora4j.engine.device;

import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.cpu.CpuBackend;
import dev.qlora4j.engine.spi.Backend;

/** The backend conformance checks on the CPU. */
class CpuBackendConformanceTest extends BackendConformanceTest {
    @Override
    protected Device device() {
        return Device.CPU;
    }

    @Override
    protected Backend backend() {
        return CpuBackend.shared();
    }
}
