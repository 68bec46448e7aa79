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

    /** The probe's verdict: the runtime and devices, or why CUDA cannot be used. */
    @Override
    public Device.Availability availability() {
        CudaProbe.Result r = CudaProbe.run();
        return new Device.Availability(r.usable(), r.deviceCount(),
                r.usable() ? "runtime " + r.runtimeVersionText() + ", " + r.detail() : r.detail());
    }
}
