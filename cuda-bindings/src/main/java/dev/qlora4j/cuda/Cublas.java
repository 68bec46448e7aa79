package dev.qlora4j.cuda;

import java.lang.foreign.SymbolLookup;
import java.util.Map;

/**
 * Checks cuBLAS return codes. Every {@code cublas_api_h} call that returns a
 * {@code cublasStatus_t} should go through {@link #check(int, String)}.
 *
 * <p>Statuses are named by cuBLAS's own {@code cublasGetStatusName}/{@code cublasGetStatusString}
 * when the loaded library has them, and otherwise by a table of our own, so a status can still be
 * named when cuBLAS did not load or is a build without those functions (they arrived in a late
 * CUDA 11 release).
 */
public final class Cublas {
    /** A status as our fallback table names and describes it. */
    record Status(String name, String description) {
    }

    // Our own wording of the meanings NVIDIA's cuBLAS documentation gives for each cublasStatus_t
    // (docs.nvidia.com/cuda/cublas, "cublasStatus_t"); the values are cublas_api_h's getters.
    private static final Map<Integer, Status> FALLBACK = Map.ofEntries(
            Map.entry(cublas_api_h.CUBLAS_STATUS_SUCCESS(), new Status("CUBLAS_STATUS_SUCCESS",
                    "the operation completed successfully")),
            Map.entry(cublas_api_h.CUBLAS_STATUS_NOT_INITIALIZED(), new Status("CUBLAS_STATUS_NOT_INITIALIZED",
                    "cuBLAS was not initialized (often: the CUDA runtime or driver could not start)")),
            Map.entry(cublas_api_h.CUBLAS_STATUS_ALLOC_FAILED(), new Status("CUBLAS_STATUS_ALLOC_FAILED",
                    "cuBLAS could not allocate a resource")),
            Map.entry(cublas_api_h.CUBLAS_STATUS_INVALID_VALUE(), new Status("CUBLAS_STATUS_INVALID_VALUE",
                    "an unsupported value or parameter was passed")),
            Map.entry(cublas_api_h.CUBLAS_STATUS_ARCH_MISMATCH(), new Status("CUBLAS_STATUS_ARCH_MISMATCH",
                    "the device lacks a feature this call needs")),
            Map.entry(cublas_api_h.CUBLAS_STATUS_MAPPING_ERROR(), new Status("CUBLAS_STATUS_MAPPING_ERROR",
                    "access to GPU memory space failed")),
            Map.entry(cublas_api_h.CUBLAS_STATUS_EXECUTION_FAILED(), new Status("CUBLAS_STATUS_EXECUTION_FAILED",
                    "the GPU program failed to execute")),
            Map.entry(cublas_api_h.CUBLAS_STATUS_INTERNAL_ERROR(), new Status("CUBLAS_STATUS_INTERNAL_ERROR",
                    "an internal cuBLAS operation failed")),
            Map.entry(cublas_api_h.CUBLAS_STATUS_NOT_SUPPORTED(), new Status("CUBLAS_STATUS_NOT_SUPPORTED",
                    "the requested functionality is not supported")),
            Map.entry(cublas_api_h.CUBLAS_STATUS_LICENSE_ERROR(), new Status("CUBLAS_STATUS_LICENSE_ERROR",
                    "the requested functionality needs a license")));

    /** Bound functions a cuBLAS may lack: the status names, which arrived in a late CUDA 11 release. */
    static final java.util.Set<String> OPTIONAL_FUNCTIONS = java.util.Set.of("cublasGetStatusName", "cublasGetStatusString");

    private Cublas() {
    }

    /** Whether the library loads and has both naming functions; decided once. */
    private static final class Names {
        static final boolean FROM_LIBRARY = libraryNamesStatuses();

        private static boolean libraryNamesStatuses() {
            try {
                SymbolLookup lib = CudaLibraries.cublas();
                return lib.find("cublasGetStatusName").isPresent() && lib.find("cublasGetStatusString").isPresent();
            } catch (CudaUnavailableException e) {
                return false;
            }
        }
    }

    /**
     * Returns when {@code status} is {@code CUBLAS_STATUS_SUCCESS}; otherwise throws.
     *
     * @param status   what a cuBLAS function returned
     * @param function that function's name, for the message
     * @throws CublasException naming and describing the status
     */
    public static void check(int status, String function) {
        if (status != cublas_api_h.CUBLAS_STATUS_SUCCESS()) {
            throw new CublasException(function, status, statusName(status), statusString(status));
        }
    }

    /** The status's enum name, e.g. {@code CUBLAS_STATUS_INVALID_VALUE}. */
    public static String statusName(int status) {
        return Names.FROM_LIBRARY ? cuda_runtime_h.string(cublas_api_h.cublasGetStatusName(status)) : fallback(status).name();
    }

    /** A description of the status. */
    public static String statusString(int status) {
        return Names.FROM_LIBRARY ? cuda_runtime_h.string(cublas_api_h.cublasGetStatusString(status))
                : fallback(status).description();
    }

    /** Our own table's entry; a status it does not know gets a generic one rather than an exception. */
    static Status fallback(int status) {
        Status s = FALLBACK.get(status);
        return s != null ? s : new Status("unknown cublasStatus_t", "status " + status + " is not one cuBLAS 12 or 13 documents");
    }
}
