package dev.qlora4j.cuda;

/**
 * A cuBLAS call returned a status other than {@code CUBLAS_STATUS_SUCCESS}. The message reads like
 * {@code cublasGemmEx failed: CUBLAS_STATUS_INVALID_VALUE (7): <description>}, named by cuBLAS's
 * own {@code cublasGetStatusName}/{@code cublasGetStatusString} or, where those are unavailable, by
 * {@link Cublas}'s fallback table. Thrown by {@link Cublas#check(int, String)}.
 */
public final class CublasException extends RuntimeException {
    private final String function;
    private final int status;
    private final String statusName;
    private final String statusString;

    /**
     * @param function     the cuBLAS function that failed, e.g. {@code cublasGemmEx}
     * @param status       its {@code cublasStatus_t}
     * @param statusName   the status's enum name
     * @param statusString a description of the status
     */
    public CublasException(String function, int status, String statusName, String statusString) {
        super(function + " failed: " + statusName + " (" + status + "): " + statusString);
        this.function = function;
        this.status = status;
        this.statusName = statusName;
        this.statusString = statusString;
    }

    /** The cuBLAS function that failed. */
    public String function() {
        return function;
    }

    /** The {@code cublasStatus_t} it returned. */
    public int status() {
        return status;
    }

    /** The status's enum name, e.g. {@code CUBLAS_STATUS_INVALID_VALUE}. */
    public String statusName() {
        return statusName;
    }

    /** A description of the status. */
    public String statusString() {
        return statusString;
    }
}
