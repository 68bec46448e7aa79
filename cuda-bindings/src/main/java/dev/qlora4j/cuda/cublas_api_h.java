package dev.qlora4j.cuda;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Bindings to cuBLAS, libcublas, in the same jextract shape as {@link cuda_runtime_h}: per function
 * a private holder with descriptor, address and handle made on first use, public
 * {@code fn$descriptor()}, {@code fn$handle()}, {@code fn$address()} and a static wrapper; enum
 * values as int getters. Written by hand; {@code regen.sh} shows how to regenerate with jextract.
 *
 * <p>Where the prototypes and values come from: the cuBLAS header is not installed on the machines
 * this was written on, so they were taken from NVIDIA's cuBLAS documentation
 * (docs.nvidia.com/cuda/cublas: cublasStatus_t, cublasOperation_t, cublasMath_t,
 * cublasComputeType_t, cublasGemmAlgo_t, cublasGemmEx, cublasGemmStridedBatchedEx) and checked
 * against the text of cuBLAS 13.4's {@code cublas_api.h} as published in public repositories. The
 * {@code cudaDataType} values are from CUDA 13's {@code library_types.h}. The tests compare all of
 * them with the installed {@code cublas_api.h} wherever one exists.
 *
 * <p>Contracts:
 * <ul>
 *   <li>The {@code _v2} symbols are bound: {@code cublas_v2.h} maps {@code cublasCreate} and friends
 *       to them by macro, which jextract cannot follow. Every function here exists with the same
 *       signature in cuBLAS 12 and 13, so either library {@link CudaLibraries#cublas()} finds works.</li>
 *   <li>Wrappers return the {@code cublasStatus_t} as an int; pass it to {@link Cublas#check(int, String)}.</li>
 *   <li>Matrices are column-major. {@code alpha} and {@code beta} point to host memory of the compute
 *       type's scalar (a float for {@code CUBLAS_COMPUTE_32F*}) under the default pointer mode.</li>
 *   <li>Enums and {@code int} are Java {@code int}; {@code long long} strides are {@code long};
 *       pointers and handles ({@code cublasHandle_t}, {@code cudaStream_t}) are {@link MemorySegment}s.</li>
 *   <li>The first call loads libcublasLt then libcublas. If they cannot be loaded, that call throws
 *       {@link ExceptionInInitializerError}; call {@link CudaLibraries#cublas()} first for a typed
 *       {@link CudaUnavailableException}.</li>
 *   <li>Only {@code cublasGetStatusName} and {@code cublasGetStatusString} are critical calls.</li>
 * </ul>
 */
@SuppressWarnings({"checkstyle:TypeName", "unused"})
public final class cublas_api_h {
    private cublas_api_h() {
    }

    private static final class Lib {
        static final SymbolLookup LOOKUP = CudaLibraries.cublas();
        static final Linker LINKER = Linker.nativeLinker();

        static MemorySegment address(String name) {
            return LOOKUP.findOrThrow(name);
        }
    }

    private static final ValueLayout.OfInt C_INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong C_LONG_LONG = ValueLayout.JAVA_LONG;
    private static final ValueLayout C_POINTER = ValueLayout.ADDRESS;

    private static final class cublasCreate_v2 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cublasCreate_v2");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cublasStatus_t cublasCreate_v2(cublasHandle_t *handle)
     * }
     */
    public static FunctionDescriptor cublasCreate_v2$descriptor() {
        return cublasCreate_v2.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cublasStatus_t cublasCreate_v2(cublasHandle_t *handle)
     * }
     */
    public static MethodHandle cublasCreate_v2$handle() {
        return cublasCreate_v2.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cublasStatus_t cublasCreate_v2(cublasHandle_t *handle)
     * }
     */
    public static MemorySegment cublasCreate_v2$address() {
        return cublasCreate_v2.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cublasStatus_t cublasCreate_v2(cublasHandle_t *handle)
     * }
     */
    public static int cublasCreate_v2(MemorySegment handle) {
        var mh$ = cublasCreate_v2.HANDLE;
        try {
            return (int) mh$.invokeExact(handle);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cublasDestroy_v2 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cublasDestroy_v2");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cublasStatus_t cublasDestroy_v2(cublasHandle_t handle)
     * }
     */
    public static FunctionDescriptor cublasDestroy_v2$descriptor() {
        return cublasDestroy_v2.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cublasStatus_t cublasDestroy_v2(cublasHandle_t handle)
     * }
     */
    public static MethodHandle cublasDestroy_v2$handle() {
        return cublasDestroy_v2.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cublasStatus_t cublasDestroy_v2(cublasHandle_t handle)
     * }
     */
    public static MemorySegment cublasDestroy_v2$address() {
        return cublasDestroy_v2.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cublasStatus_t cublasDestroy_v2(cublasHandle_t handle)
     * }
     */
    public static int cublasDestroy_v2(MemorySegment handle) {
        var mh$ = cublasDestroy_v2.HANDLE;
        try {
            return (int) mh$.invokeExact(handle);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cublasSetStream_v2 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cublasSetStream_v2");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t streamId)
     * }
     */
    public static FunctionDescriptor cublasSetStream_v2$descriptor() {
        return cublasSetStream_v2.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t streamId)
     * }
     */
    public static MethodHandle cublasSetStream_v2$handle() {
        return cublasSetStream_v2.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t streamId)
     * }
     */
    public static MemorySegment cublasSetStream_v2$address() {
        return cublasSetStream_v2.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t streamId)
     * }
     */
    public static int cublasSetStream_v2(MemorySegment handle, MemorySegment streamId) {
        var mh$ = cublasSetStream_v2.HANDLE;
        try {
            return (int) mh$.invokeExact(handle, streamId);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cublasSetMathMode {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_INT);
        static final MemorySegment ADDR = Lib.address("cublasSetMathMode");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode)
     * }
     */
    public static FunctionDescriptor cublasSetMathMode$descriptor() {
        return cublasSetMathMode.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode)
     * }
     */
    public static MethodHandle cublasSetMathMode$handle() {
        return cublasSetMathMode.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode)
     * }
     */
    public static MemorySegment cublasSetMathMode$address() {
        return cublasSetMathMode.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode)
     * }
     */
    public static int cublasSetMathMode(MemorySegment handle, int mode) {
        var mh$ = cublasSetMathMode.HANDLE;
        try {
            return (int) mh$.invokeExact(handle, mode);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cublasGetVersion_v2 {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cublasGetVersion_v2");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cublasStatus_t cublasGetVersion_v2(cublasHandle_t handle, int *version)
     * }
     */
    public static FunctionDescriptor cublasGetVersion_v2$descriptor() {
        return cublasGetVersion_v2.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cublasStatus_t cublasGetVersion_v2(cublasHandle_t handle, int *version)
     * }
     */
    public static MethodHandle cublasGetVersion_v2$handle() {
        return cublasGetVersion_v2.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cublasStatus_t cublasGetVersion_v2(cublasHandle_t handle, int *version)
     * }
     */
    public static MemorySegment cublasGetVersion_v2$address() {
        return cublasGetVersion_v2.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cublasStatus_t cublasGetVersion_v2(cublasHandle_t handle, int *version)
     * }
     */
    public static int cublasGetVersion_v2(MemorySegment handle, MemorySegment version) {
        var mh$ = cublasGetVersion_v2.HANDLE;
        try {
            return (int) mh$.invokeExact(handle, version);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cublasGemmEx {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_INT, C_INT, C_INT, C_INT, C_POINTER, C_POINTER, C_INT, C_INT, C_POINTER, C_INT, C_INT, C_POINTER, C_POINTER, C_INT, C_INT, C_INT, C_INT);
        static final MemorySegment ADDR = Lib.address("cublasGemmEx");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k, const void *alpha, const void *A, cudaDataType Atype, int lda, const void *B, cudaDataType Btype, int ldb, const void *beta, void *C, cudaDataType Ctype, int ldc, cublasComputeType_t computeType, cublasGemmAlgo_t algo)
     * }
     */
    public static FunctionDescriptor cublasGemmEx$descriptor() {
        return cublasGemmEx.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k, const void *alpha, const void *A, cudaDataType Atype, int lda, const void *B, cudaDataType Btype, int ldb, const void *beta, void *C, cudaDataType Ctype, int ldc, cublasComputeType_t computeType, cublasGemmAlgo_t algo)
     * }
     */
    public static MethodHandle cublasGemmEx$handle() {
        return cublasGemmEx.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k, const void *alpha, const void *A, cudaDataType Atype, int lda, const void *B, cudaDataType Btype, int ldb, const void *beta, void *C, cudaDataType Ctype, int ldc, cublasComputeType_t computeType, cublasGemmAlgo_t algo)
     * }
     */
    public static MemorySegment cublasGemmEx$address() {
        return cublasGemmEx.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k, const void *alpha, const void *A, cudaDataType Atype, int lda, const void *B, cudaDataType Btype, int ldb, const void *beta, void *C, cudaDataType Ctype, int ldc, cublasComputeType_t computeType, cublasGemmAlgo_t algo)
     * }
     */
    public static int cublasGemmEx(MemorySegment handle, int transa, int transb, int m, int n, int k, MemorySegment alpha, MemorySegment A, int Atype, int lda, MemorySegment B, int Btype, int ldb, MemorySegment beta, MemorySegment C, int Ctype, int ldc, int computeType, int algo) {
        var mh$ = cublasGemmEx.HANDLE;
        try {
            return (int) mh$.invokeExact(handle, transa, transb, m, n, k, alpha, A, Atype, lda, B, Btype, ldb, beta, C, Ctype, ldc, computeType, algo);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cublasGemmStridedBatchedEx {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_INT, C_INT, C_INT, C_INT, C_POINTER, C_POINTER, C_INT, C_INT, C_LONG_LONG, C_POINTER, C_INT, C_INT, C_LONG_LONG, C_POINTER, C_POINTER, C_INT, C_INT, C_LONG_LONG, C_INT, C_INT, C_INT);
        static final MemorySegment ADDR = Lib.address("cublasGemmStridedBatchedEx");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k, const void *alpha, const void *A, cudaDataType Atype, int lda, long long int strideA, const void *B, cudaDataType Btype, int ldb, long long int strideB, const void *beta, void *C, cudaDataType Ctype, int ldc, long long int strideC, int batchCount, cublasComputeType_t computeType, cublasGemmAlgo_t algo)
     * }
     */
    public static FunctionDescriptor cublasGemmStridedBatchedEx$descriptor() {
        return cublasGemmStridedBatchedEx.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k, const void *alpha, const void *A, cudaDataType Atype, int lda, long long int strideA, const void *B, cudaDataType Btype, int ldb, long long int strideB, const void *beta, void *C, cudaDataType Ctype, int ldc, long long int strideC, int batchCount, cublasComputeType_t computeType, cublasGemmAlgo_t algo)
     * }
     */
    public static MethodHandle cublasGemmStridedBatchedEx$handle() {
        return cublasGemmStridedBatchedEx.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k, const void *alpha, const void *A, cudaDataType Atype, int lda, long long int strideA, const void *B, cudaDataType Btype, int ldb, long long int strideB, const void *beta, void *C, cudaDataType Ctype, int ldc, long long int strideC, int batchCount, cublasComputeType_t computeType, cublasGemmAlgo_t algo)
     * }
     */
    public static MemorySegment cublasGemmStridedBatchedEx$address() {
        return cublasGemmStridedBatchedEx.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k, const void *alpha, const void *A, cudaDataType Atype, int lda, long long int strideA, const void *B, cudaDataType Btype, int ldb, long long int strideB, const void *beta, void *C, cudaDataType Ctype, int ldc, long long int strideC, int batchCount, cublasComputeType_t computeType, cublasGemmAlgo_t algo)
     * }
     */
    public static int cublasGemmStridedBatchedEx(MemorySegment handle, int transa, int transb, int m, int n, int k, MemorySegment alpha, MemorySegment A, int Atype, int lda, long strideA, MemorySegment B, int Btype, int ldb, long strideB, MemorySegment beta, MemorySegment C, int Ctype, int ldc, long strideC, int batchCount, int computeType, int algo) {
        var mh$ = cublasGemmStridedBatchedEx.HANDLE;
        try {
            return (int) mh$.invokeExact(handle, transa, transb, m, n, k, alpha, A, Atype, lda, strideA, B, Btype, ldb, strideB, beta, C, Ctype, ldc, strideC, batchCount, computeType, algo);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    // Short, never blocks, never calls back into Java: safe as a critical call, which skips the thread-state switch.
    private static final class cublasGetStatusName {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_INT);
        static final MemorySegment ADDR = Lib.address("cublasGetStatusName");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC, Linker.Option.critical(false));
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * const char *cublasGetStatusName(cublasStatus_t status)
     * }
     */
    public static FunctionDescriptor cublasGetStatusName$descriptor() {
        return cublasGetStatusName.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * const char *cublasGetStatusName(cublasStatus_t status)
     * }
     */
    public static MethodHandle cublasGetStatusName$handle() {
        return cublasGetStatusName.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * const char *cublasGetStatusName(cublasStatus_t status)
     * }
     */
    public static MemorySegment cublasGetStatusName$address() {
        return cublasGetStatusName.ADDR;
    }

    /**
     * {@snippet lang=c :
     * const char *cublasGetStatusName(cublasStatus_t status)
     * }
     */
    public static MemorySegment cublasGetStatusName(int status) {
        var mh$ = cublasGetStatusName.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact(status);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    // Short, never blocks, never calls back into Java: safe as a critical call, which skips the thread-state switch.
    private static final class cublasGetStatusString {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_INT);
        static final MemorySegment ADDR = Lib.address("cublasGetStatusString");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC, Linker.Option.critical(false));
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * const char *cublasGetStatusString(cublasStatus_t status)
     * }
     */
    public static FunctionDescriptor cublasGetStatusString$descriptor() {
        return cublasGetStatusString.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * const char *cublasGetStatusString(cublasStatus_t status)
     * }
     */
    public static MethodHandle cublasGetStatusString$handle() {
        return cublasGetStatusString.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * const char *cublasGetStatusString(cublasStatus_t status)
     * }
     */
    public static MemorySegment cublasGetStatusString$address() {
        return cublasGetStatusString.ADDR;
    }

    /**
     * {@snippet lang=c :
     * const char *cublasGetStatusString(cublasStatus_t status)
     * }
     */
    public static MemorySegment cublasGetStatusString(int status) {
        var mh$ = cublasGetStatusString.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact(status);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    // Enum values as int getters the way jextract emits them; sources in the class comment.

    /** {@code CUBLAS_STATUS_SUCCESS = 0} (cublasStatus_t, cublas_api.h). */
    public static int CUBLAS_STATUS_SUCCESS() {
        return 0;
    }

    /** {@code CUBLAS_STATUS_NOT_INITIALIZED = 1} (cublasStatus_t, cublas_api.h). */
    public static int CUBLAS_STATUS_NOT_INITIALIZED() {
        return 1;
    }

    /** {@code CUBLAS_STATUS_ALLOC_FAILED = 3} (cublasStatus_t, cublas_api.h). */
    public static int CUBLAS_STATUS_ALLOC_FAILED() {
        return 3;
    }

    /** {@code CUBLAS_STATUS_INVALID_VALUE = 7} (cublasStatus_t, cublas_api.h). */
    public static int CUBLAS_STATUS_INVALID_VALUE() {
        return 7;
    }

    /** {@code CUBLAS_STATUS_ARCH_MISMATCH = 8} (cublasStatus_t, cublas_api.h). */
    public static int CUBLAS_STATUS_ARCH_MISMATCH() {
        return 8;
    }

    /** {@code CUBLAS_STATUS_MAPPING_ERROR = 11} (cublasStatus_t, cublas_api.h). */
    public static int CUBLAS_STATUS_MAPPING_ERROR() {
        return 11;
    }

    /** {@code CUBLAS_STATUS_EXECUTION_FAILED = 13} (cublasStatus_t, cublas_api.h). */
    public static int CUBLAS_STATUS_EXECUTION_FAILED() {
        return 13;
    }

    /** {@code CUBLAS_STATUS_INTERNAL_ERROR = 14} (cublasStatus_t, cublas_api.h). */
    public static int CUBLAS_STATUS_INTERNAL_ERROR() {
        return 14;
    }

    /** {@code CUBLAS_STATUS_NOT_SUPPORTED = 15} (cublasStatus_t, cublas_api.h). */
    public static int CUBLAS_STATUS_NOT_SUPPORTED() {
        return 15;
    }

    /** {@code CUBLAS_STATUS_LICENSE_ERROR = 16} (cublasStatus_t, cublas_api.h). */
    public static int CUBLAS_STATUS_LICENSE_ERROR() {
        return 16;
    }

    /** {@code CUBLAS_OP_N = 0} (cublasOperation_t, cublas_api.h). */
    public static int CUBLAS_OP_N() {
        return 0;
    }

    /** {@code CUBLAS_OP_T = 1} (cublasOperation_t, cublas_api.h). */
    public static int CUBLAS_OP_T() {
        return 1;
    }

    /** {@code CUBLAS_DEFAULT_MATH = 0} (cublasMath_t, cublas_api.h). */
    public static int CUBLAS_DEFAULT_MATH() {
        return 0;
    }

    /** {@code CUBLAS_PEDANTIC_MATH = 2} (cublasMath_t, cublas_api.h). */
    public static int CUBLAS_PEDANTIC_MATH() {
        return 2;
    }

    /** {@code CUBLAS_TF32_TENSOR_OP_MATH = 3} (cublasMath_t, cublas_api.h). */
    public static int CUBLAS_TF32_TENSOR_OP_MATH() {
        return 3;
    }

    /** {@code CUBLAS_COMPUTE_32F = 68} (cublasComputeType_t, cublas_api.h). */
    public static int CUBLAS_COMPUTE_32F() {
        return 68;
    }

    /** {@code CUBLAS_COMPUTE_32F_FAST_TF32 = 77} (cublasComputeType_t, cublas_api.h). */
    public static int CUBLAS_COMPUTE_32F_FAST_TF32() {
        return 77;
    }

    /** {@code CUBLAS_GEMM_DEFAULT = -1} (cublasGemmAlgo_t, cublas_api.h). */
    public static int CUBLAS_GEMM_DEFAULT() {
        return -1;
    }

    /** {@code CUDA_R_32F = 0} (cudaDataType, library_types.h). */
    public static int CUDA_R_32F() {
        return 0;
    }

    /** {@code CUDA_R_16F = 2} (cudaDataType, library_types.h). */
    public static int CUDA_R_16F() {
        return 2;
    }

    /** {@code CUDA_R_16BF = 14} (cudaDataType, library_types.h). */
    public static int CUDA_R_16BF() {
        return 14;
    }
}
