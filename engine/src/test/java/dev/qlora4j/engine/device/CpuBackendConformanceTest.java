package dev.qlora4j.engine.device;

import dev.qlora4j.engine.Device;

/** The backend conformance checks on the CPU. */
class CpuBackendConformanceTest extends BackendConformanceTest {
    @Override
    Device device() {
        return Device.CPU;
    }
}
