package dev.qlora4j.cuda;

import java.util.Set;

/**
 * Checks CUDA runtime return codes. Every {@code cuda_runtime_h} call that returns a
 * {@code cudaError_t} should go through {@link #check(int, String)}; there is no switch to turn
 * checking off.
 */
public final class Cuda {
    /**
     * Codes the CUDA 13 header (driver_types.h) documents as "this process cannot use CUDA", as
     * opposed to a failed operation: the driver is missing, a stub, too old, mismatched or not ready;
     * the runtime could not start or establish validity; or no device is present, licensed or free.
     */
    private static final Set<Integer> UNAVAILABLE = Set.of(
            cuda_runtime_h.cudaErrorInitializationError(),
            cuda_runtime_h.cudaErrorStubLibrary(),
            cuda_runtime_h.cudaErrorInsufficientDriver(),
            cuda_runtime_h.cudaErrorCallRequiresNewerDriver(),
            cuda_runtime_h.cudaErrorDevicesUnavailable(),
            cuda_runtime_h.cudaErrorNoDevice(),
            cuda_runtime_h.cudaErrorDeviceNotLicensed(),
            cuda_runtime_h.cudaErrorSoftwareValidityNotEstablished(),
            cuda_runtime_h.cudaErrorStartupFailure(),
            cuda_runtime_h.cudaErrorSystemNotReady(),
            cuda_runtime_h.cudaErrorSystemDriverMismatch(),
            cuda_runtime_h.cudaErrorCompatNotSupportedOnDevice(),
            cuda_runtime_h.cudaErrorJitCompilerNotFound());

    private Cuda() {
    }

    /**
     * Returns when {@code rc} is {@code cudaSuccess}; otherwise throws, naming the code with the
     * runtime's {@code cudaGetErrorName} and {@code cudaGetErrorString}.
     *
     * @param rc       what a CUDA runtime function returned
     * @param function that function's name, for the message
     * @throws CudaUnavailableException when {@link #meansUnavailable(int) the code means CUDA cannot be used}
     * @throws CudaException            for any other error
     */
    public static void check(int rc, String function) {
        if (rc == cuda_runtime_h.cudaSuccess()) {
            return;
        }
        String name = errorName(rc);
        String description = errorString(rc);
        if (meansUnavailable(rc)) {
            throw new CudaUnavailableException(function, rc, name, description);
        }
        throw new CudaException(function, rc, name, description);
    }

    /**
     * Whether {@code code} says this process cannot use CUDA at all (no usable driver or device),
     * rather than that one operation failed: cudaErrorInitializationError (3),
     * cudaErrorStubLibrary (34), cudaErrorInsufficientDriver (35), cudaErrorCallRequiresNewerDriver (36),
     * cudaErrorDevicesUnavailable (46),
     * cudaErrorNoDevice (100), cudaErrorDeviceNotLicensed (102),
     * cudaErrorSoftwareValidityNotEstablished (103), cudaErrorStartupFailure (127),
     * cudaErrorSystemNotReady (802), cudaErrorSystemDriverMismatch (803) and
     * cudaErrorCompatNotSupportedOnDevice (804); and cudaErrorJitCompilerNotFound (221), which
     * leaves the kernels, shipped as PTX, with nothing to compile them.
     */
    public static boolean meansUnavailable(int code) {
        return UNAVAILABLE.contains(code);
    }

    /** The runtime's name for {@code code}, e.g. {@code cudaErrorInsufficientDriver}. */
    public static String errorName(int code) {
        return cuda_runtime_h.string(cuda_runtime_h.cudaGetErrorName(code));
    }

    /** The runtime's description of {@code code}, e.g. {@code out of memory}. */
    public static String errorString(int code) {
        return cuda_runtime_h.string(cuda_runtime_h.cudaGetErrorString(code));
    }

    /** {@code cudaErrorInsufficientDriver (35): CUDA driver version is insufficient for CUDA runtime version}. */
    public static String describe(int code) {
        return errorName(code) + " (" + code + "): " + errorString(code);
    }
}
