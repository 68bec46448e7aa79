package dev.qlora4j.engine.cuda;

import dev.qlora4j.cuda.CudaProbe;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.spi.Backend;
import dev.qlora4j.engine.spi.BackendProvider;

/** Provides the CUDA backend of each device, once {@link CudaProbe} finds CUDA usable. */
public final class CudaBackendProvider implements BackendProvider {
    /** Made by {@link java.util.ServiceLoader}. */
    public CudaBackendProvider() {
    }

    @Override
    public Device.Kind kind() {
        return Device.Kind.CUDA;
    }

    @Override
    public Backend backend(Device device) {
        return CudaBackend.of(device);
    }

    /**
     * The probe's verdict — the runtime and devices, or why CUDA cannot be used — confirmed by
     * starting device 0: its kernels load and cuBLAS runs, or the reason it does not (no JIT
     * compiler for the PTX, a driver too old for the code) makes CUDA unusable here, so that
     * {@code --device auto} falls back to the CPU instead of failing at the first op.
     */
    @Override
    public Device.Availability availability() {
        CudaProbe.Result r = CudaProbe.run();
        if (!r.usable()) {
            return new Device.Availability(false, r.deviceCount(), r.detail());
        }
        try {
            CudaBackend.of(Device.cuda(0));
        } catch (RuntimeException e) {
            return new Device.Availability(false, r.deviceCount(), "CUDA device 0 did not start: " + e.getMessage());
        }
        return new Device.Availability(true, r.deviceCount(), "runtime " + r.runtimeVersionText() + ", " + r.detail());
    }
}
