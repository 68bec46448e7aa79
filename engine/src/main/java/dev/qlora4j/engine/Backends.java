package dev.qlora4j.engine;

import dev.qlora4j.cuda.CudaProbe;
import dev.qlora4j.engine.cpu.CpuBackend;
import dev.qlora4j.engine.cuda.CudaBackend;

/** Finds the backend and allocator of a device. */
public final class Backends {
    private Backends() {
    }

    /**
     * The backend that computes on {@code device}.
     *
     * @throws dev.qlora4j.cuda.CudaUnavailableException (an IllegalStateException) for a CUDA device
     *         that cannot be used here, saying why
     */
    public static Backend of(Device device) {
        if (device.kind() == Device.Kind.CPU) {
            return CpuBackend.shared();
        }
        return CudaBackend.of(device);
    }

    /** The allocator that owns memory on {@code device}. */
    public static Allocator allocator(Device device) {
        return of(device).allocator();
    }

    /** CUDA device 0 when it can be used, else the CPU with a one-line note on standard error saying why. */
    static Device autoDevice() {
        CudaProbe.Result r = CudaProbe.run();
        if (r.usable()) {
            return Device.cuda(0);
        }
        System.err.println("qlora4j: using the CPU (" + r.detail() + ")");
        return Device.CPU;
    }
}
