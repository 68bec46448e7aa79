package dev.qlora4j.cuda;

/**
 * A CUDA runtime call returned an error. The message reads like
 * {@code cudaMalloc failed: cudaErrorMemoryAllocation (2): out of memory}: the function, then the
 * runtime's own name and description of the code. Thrown by {@link Cuda#check(int, String)}, which
 * throws {@link CudaUnavailableException} instead for the codes that mean CUDA cannot be used at all.
 */
public final class CudaException extends RuntimeException {
    private final String function;
    private final int code;
    private final String errorName;
    private final String errorString;

    /**
     * @param function    the CUDA function that failed, e.g. {@code cudaMalloc}
     * @param code        its {@code cudaError_t}
     * @param errorName   {@code cudaGetErrorName(code)}
     * @param errorString {@code cudaGetErrorString(code)}
     */
    public CudaException(String function, int code, String errorName, String errorString) {
        super(message(function, code, errorName, errorString));
        this.function = function;
        this.code = code;
        this.errorName = errorName;
        this.errorString = errorString;
    }

    static String message(String function, int code, String errorName, String errorString) {
        return function + " failed: " + errorName + " (" + code + "): " + errorString;
    }

    /** The CUDA function that failed. */
    public String function() {
        return function;
    }

    /** The {@code cudaError_t} it returned. */
    public int code() {
        return code;
    }

    /** The code's enum name, e.g. {@code cudaErrorMemoryAllocation}. */
    public String errorName() {
        return errorName;
    }

    /** The runtime's description of the code, e.g. {@code out of memory}. */
    public String errorString() {
        return errorString;
    }
}
