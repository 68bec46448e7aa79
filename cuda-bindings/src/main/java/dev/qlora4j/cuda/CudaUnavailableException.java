package dev.qlora4j.cuda;

/** CUDA cannot be used: a library is missing, there is no driver, or there is no device. */
public final class CudaUnavailableException extends IllegalStateException {
    public CudaUnavailableException(String message) {
        super(message);
    }

    public CudaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
