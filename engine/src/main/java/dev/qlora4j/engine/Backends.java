package dev.qlora4j.engine;

import dev.qlora4j.cuda.CudaProbe;
import dev.qlora4j.engine.cpu.CpuBackend;

/** Finds the backend and allocator of a device. */
public final class Backends {
    private Backends() {
    }

    /**
     * The backend that computes on {@code device}.
     *
     * @throws IllegalStateException for a CUDA device, saying why it is not usable here
     */
    public static Backend of(Device device) {
        if (device.kind() == Device.Kind.CPU) {
            return CpuBackend.shared();
        }
        throw new IllegalStateException("device " + device + " is not usable: " + cudaUnavailableReason());
    }

    /** The allocator that owns memory on {@code device}. */
    public static Allocator allocator(Device device) {
        return of(device).allocator();
    }

    /** Why CUDA cannot be used in this process. */
    static String cudaUnavailableReason() {
        CudaProbe.Result r = CudaProbe.run();
        if (!r.usable()) {
            return r.detail();
        }
        return "CUDA " + r.runtimeVersionText() + " found with " + r.deviceCount()
                + " device(s), but this build of qlora4j has no CUDA backend yet; use --device cpu";
    }

    /** CUDA device 0 when it can be used, else the CPU with a one-line note on standard error. */
    static Device autoDevice() {
        System.err.println("qlora4j: using the CPU (" + cudaUnavailableReason() + ")");
        return Device.CPU;
    }
}
