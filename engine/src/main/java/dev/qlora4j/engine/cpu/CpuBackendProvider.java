package dev.qlora4j.engine.cpu;

import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.spi.Backend;
import dev.qlora4j.engine.spi.BackendProvider;
import dev.qlora4j.engine.spi.VectorWidth;
import jdk.incubator.vector.FloatVector;

/** Provides the CPU backend: always usable, one shared instance. */
public final class CpuBackendProvider implements BackendProvider {
    /** Made by {@link java.util.ServiceLoader}. */
    public CpuBackendProvider() {
    }

    @Override
    public Device.Kind kind() {
        return Device.Kind.CPU;
    }

    @Override
    public Backend backend(Device device) {
        return CpuBackend.shared();
    }

    /** Usable, with the vector width the kernels use and the hardware's preferred one. */
    @Override
    public Device.Availability availability() {
        int preferred = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        String forced = System.getProperty(VectorWidth.PROPERTY) != null ? ", forced" : "";
        return new Device.Availability(true, 1, VectorWidth.BITS + "-bit vectors, " + VectorWidth.FLOATS.length()
                + " f32 lanes" + forced + " (hardware preferred: " + preferred + "-bit)");
    }
}
