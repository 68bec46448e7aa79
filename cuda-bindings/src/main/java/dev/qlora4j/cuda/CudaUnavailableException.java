package dev.qlora4j.cuda;

import java.util.Optional;
import java.util.OptionalInt;

/**
 * CUDA cannot be used in this process: a library did not load, or the runtime answered with a code
 * meaning there is no usable driver or device (see {@link Cuda#meansUnavailable(int)}). Callers
 * that can fall back to the CPU catch this one; any other CUDA failure is a {@link CudaException}.
 * When it comes from an error code, {@link #code()} and {@link #errorName()} say which, and the
 * message reads like a {@link CudaException}'s.
 */
public final class CudaUnavailableException extends IllegalStateException {
    private final OptionalInt code;
    private final Optional<String> errorName;

    /** A library that did not load; the message says what was tried. */
    public CudaUnavailableException(String message) {
        this(message, null);
    }

    /** A library that did not load, with an earlier failure as the cause. */
    public CudaUnavailableException(String message, Throwable cause) {
        super(message, cause);
        this.code = OptionalInt.empty();
        this.errorName = Optional.empty();
    }

    /**
     * A runtime call that answered "no usable driver or device".
     *
     * @param function    the CUDA function called, e.g. {@code cudaGetDeviceCount}
     * @param code        its {@code cudaError_t}
     * @param errorName   {@code cudaGetErrorName(code)}
     * @param errorString {@code cudaGetErrorString(code)}
     */
    public CudaUnavailableException(String function, int code, String errorName, String errorString) {
        super(CudaException.message(function, code, errorName, errorString));
        this.code = OptionalInt.of(code);
        this.errorName = Optional.of(errorName);
    }

    /** The {@code cudaError_t} that said CUDA is unusable; empty when a library did not load. */
    public OptionalInt code() {
        return code;
    }

    /** That code's enum name, e.g. {@code cudaErrorInsufficientDriver}; empty when a library did not load. */
    public Optional<String> errorName() {
        return errorName;
    }
}
