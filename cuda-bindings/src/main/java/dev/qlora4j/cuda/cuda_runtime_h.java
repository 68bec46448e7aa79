package dev.qlora4j.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Bindings to the CUDA runtime, libcudart, in the shape jextract generates: per function a private
 * holder class with its descriptor, address and handle, created on first use, public
 * {@code fn$descriptor()}, {@code fn$handle()} and {@code fn$address()} accessors, and a static
 * wrapper {@code fn(...)}. Enum values and macros are int getters such as {@link #cudaSuccess()}.
 * Written by hand because jextract cannot be installed here; {@code regen.sh} shows how to
 * regenerate with a real one, and the tests check every descriptor against the installed header.
 *
 * <p>Contracts:
 * <ul>
 *   <li>Prototypes are CUDA 13's ({@code cuda_runtime_api.h}); every function bound here has the
 *       same signature and symbol in CUDA 12, so either runtime {@link CudaLibraries#cudart()} finds
 *       works. CUDA 13 has no {@code _v2} names; the per-thread-stream {@code _ptds}/{@code _ptsz}
 *       variants are not bound: use explicit streams.</li>
 *   <li>Wrappers return the {@code cudaError_t} as an int and never throw for a CUDA error; pass it
 *       to {@link Cuda#check(int, String)}.</li>
 *   <li>C {@code int}, enums and {@code unsigned int} are Java {@code int} (unsigned values above
 *       2<sup>31</sup>-1 read as negative); {@code size_t} is {@code long}; every pointer and opaque
 *       handle ({@code cudaStream_t}, {@code cudaEvent_t}, {@code cudaLibrary_t},
 *       {@code cudaKernel_t}) is a {@link MemorySegment}; out-parameters are caller-allocated
 *       segments. {@code dim3} is passed by value as a {@link #DIM3} segment.</li>
 *   <li>The first call of any function loads libcudart. If it cannot be loaded, that call throws
 *       {@link ExceptionInInitializerError} (later ones {@link NoClassDefFoundError}); call
 *       {@link CudaLibraries#cudart()} first for a typed {@link CudaUnavailableException}.</li>
 *   <li>Only {@code cudaGetLastError}, {@code cudaPeekAtLastError}, {@code cudaGetErrorName} and
 *       {@code cudaGetErrorString} are linked as critical calls (short, non-blocking, no upcalls);
 *       everything that can block, allocate or launch is an ordinary downcall.</li>
 * </ul>
 */
@SuppressWarnings({"checkstyle:TypeName", "unused"})
public final class cuda_runtime_h {
    private cuda_runtime_h() {
    }

    private static final class Lib {
        static final SymbolLookup LOOKUP = CudaLibraries.cudart();
        static final Linker LINKER = Linker.nativeLinker();

        static MemorySegment address(String name) {
            return LOOKUP.findOrThrow(name);
        }
    }

    private static final ValueLayout.OfInt C_INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong C_SIZE_T = ValueLayout.JAVA_LONG;
    private static final ValueLayout C_POINTER = ValueLayout.ADDRESS;

    /**
     * {@code struct dim3 { unsigned int x, y, z; }} (vector_types.h): 12 bytes, passed by value to
     * {@link #cudaLaunchKernel}.
     */
    public static final StructLayout DIM3 = MemoryLayout.structLayout(
            C_INT.withName("x"), C_INT.withName("y"), C_INT.withName("z")).withName("dim3");

    /** A {@link #DIM3} from {@code allocator} holding (x, y, z). */
    public static MemorySegment dim3(SegmentAllocator allocator, int x, int y, int z) {
        MemorySegment d = allocator.allocate(DIM3);
        d.set(C_INT, 0, x);
        d.set(C_INT, 4, y);
        d.set(C_INT, 8, z);
        return d;
    }

    private static final class cudaRuntimeGetVersion {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaRuntimeGetVersion");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaRuntimeGetVersion(int *runtimeVersion)
     * }
     */
    public static FunctionDescriptor cudaRuntimeGetVersion$descriptor() {
        return cudaRuntimeGetVersion.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaRuntimeGetVersion(int *runtimeVersion)
     * }
     */
    public static MethodHandle cudaRuntimeGetVersion$handle() {
        return cudaRuntimeGetVersion.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaRuntimeGetVersion(int *runtimeVersion)
     * }
     */
    public static MemorySegment cudaRuntimeGetVersion$address() {
        return cudaRuntimeGetVersion.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaRuntimeGetVersion(int *runtimeVersion)
     * }
     */
    public static int cudaRuntimeGetVersion(MemorySegment runtimeVersion) {
        var mh$ = cudaRuntimeGetVersion.HANDLE;
        try {
            return (int) mh$.invokeExact(runtimeVersion);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaDriverGetVersion {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaDriverGetVersion");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaDriverGetVersion(int *driverVersion)
     * }
     */
    public static FunctionDescriptor cudaDriverGetVersion$descriptor() {
        return cudaDriverGetVersion.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaDriverGetVersion(int *driverVersion)
     * }
     */
    public static MethodHandle cudaDriverGetVersion$handle() {
        return cudaDriverGetVersion.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaDriverGetVersion(int *driverVersion)
     * }
     */
    public static MemorySegment cudaDriverGetVersion$address() {
        return cudaDriverGetVersion.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaDriverGetVersion(int *driverVersion)
     * }
     */
    public static int cudaDriverGetVersion(MemorySegment driverVersion) {
        var mh$ = cudaDriverGetVersion.HANDLE;
        try {
            return (int) mh$.invokeExact(driverVersion);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaGetDeviceCount {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaGetDeviceCount");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaGetDeviceCount(int *count)
     * }
     */
    public static FunctionDescriptor cudaGetDeviceCount$descriptor() {
        return cudaGetDeviceCount.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaGetDeviceCount(int *count)
     * }
     */
    public static MethodHandle cudaGetDeviceCount$handle() {
        return cudaGetDeviceCount.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaGetDeviceCount(int *count)
     * }
     */
    public static MemorySegment cudaGetDeviceCount$address() {
        return cudaGetDeviceCount.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaGetDeviceCount(int *count)
     * }
     */
    public static int cudaGetDeviceCount(MemorySegment count) {
        var mh$ = cudaGetDeviceCount.HANDLE;
        try {
            return (int) mh$.invokeExact(count);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaSetDevice {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_INT);
        static final MemorySegment ADDR = Lib.address("cudaSetDevice");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaSetDevice(int device)
     * }
     */
    public static FunctionDescriptor cudaSetDevice$descriptor() {
        return cudaSetDevice.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaSetDevice(int device)
     * }
     */
    public static MethodHandle cudaSetDevice$handle() {
        return cudaSetDevice.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaSetDevice(int device)
     * }
     */
    public static MemorySegment cudaSetDevice$address() {
        return cudaSetDevice.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaSetDevice(int device)
     * }
     */
    public static int cudaSetDevice(int device) {
        var mh$ = cudaSetDevice.HANDLE;
        try {
            return (int) mh$.invokeExact(device);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaGetDevice {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaGetDevice");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaGetDevice(int *device)
     * }
     */
    public static FunctionDescriptor cudaGetDevice$descriptor() {
        return cudaGetDevice.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaGetDevice(int *device)
     * }
     */
    public static MethodHandle cudaGetDevice$handle() {
        return cudaGetDevice.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaGetDevice(int *device)
     * }
     */
    public static MemorySegment cudaGetDevice$address() {
        return cudaGetDevice.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaGetDevice(int *device)
     * }
     */
    public static int cudaGetDevice(MemorySegment device) {
        var mh$ = cudaGetDevice.HANDLE;
        try {
            return (int) mh$.invokeExact(device);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaDeviceGetAttribute {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_INT);
        static final MemorySegment ADDR = Lib.address("cudaDeviceGetAttribute");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaDeviceGetAttribute(int *value, enum cudaDeviceAttr attr, int device)
     * }
     */
    public static FunctionDescriptor cudaDeviceGetAttribute$descriptor() {
        return cudaDeviceGetAttribute.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaDeviceGetAttribute(int *value, enum cudaDeviceAttr attr, int device)
     * }
     */
    public static MethodHandle cudaDeviceGetAttribute$handle() {
        return cudaDeviceGetAttribute.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaDeviceGetAttribute(int *value, enum cudaDeviceAttr attr, int device)
     * }
     */
    public static MemorySegment cudaDeviceGetAttribute$address() {
        return cudaDeviceGetAttribute.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaDeviceGetAttribute(int *value, enum cudaDeviceAttr attr, int device)
     * }
     */
    public static int cudaDeviceGetAttribute(MemorySegment value, int attr, int device) {
        var mh$ = cudaDeviceGetAttribute.HANDLE;
        try {
            return (int) mh$.invokeExact(value, attr, device);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaDeviceSynchronize {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT);
        static final MemorySegment ADDR = Lib.address("cudaDeviceSynchronize");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaDeviceSynchronize(void)
     * }
     */
    public static FunctionDescriptor cudaDeviceSynchronize$descriptor() {
        return cudaDeviceSynchronize.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaDeviceSynchronize(void)
     * }
     */
    public static MethodHandle cudaDeviceSynchronize$handle() {
        return cudaDeviceSynchronize.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaDeviceSynchronize(void)
     * }
     */
    public static MemorySegment cudaDeviceSynchronize$address() {
        return cudaDeviceSynchronize.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaDeviceSynchronize(void)
     * }
     */
    public static int cudaDeviceSynchronize() {
        var mh$ = cudaDeviceSynchronize.HANDLE;
        try {
            return (int) mh$.invokeExact();
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaMemGetInfo {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaMemGetInfo");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaMemGetInfo(size_t *free, size_t *total)
     * }
     */
    public static FunctionDescriptor cudaMemGetInfo$descriptor() {
        return cudaMemGetInfo.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaMemGetInfo(size_t *free, size_t *total)
     * }
     */
    public static MethodHandle cudaMemGetInfo$handle() {
        return cudaMemGetInfo.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaMemGetInfo(size_t *free, size_t *total)
     * }
     */
    public static MemorySegment cudaMemGetInfo$address() {
        return cudaMemGetInfo.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaMemGetInfo(size_t *free, size_t *total)
     * }
     */
    public static int cudaMemGetInfo(MemorySegment free, MemorySegment total) {
        var mh$ = cudaMemGetInfo.HANDLE;
        try {
            return (int) mh$.invokeExact(free, total);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaMalloc {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_SIZE_T);
        static final MemorySegment ADDR = Lib.address("cudaMalloc");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaMalloc(void **devPtr, size_t size)
     * }
     */
    public static FunctionDescriptor cudaMalloc$descriptor() {
        return cudaMalloc.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaMalloc(void **devPtr, size_t size)
     * }
     */
    public static MethodHandle cudaMalloc$handle() {
        return cudaMalloc.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaMalloc(void **devPtr, size_t size)
     * }
     */
    public static MemorySegment cudaMalloc$address() {
        return cudaMalloc.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaMalloc(void **devPtr, size_t size)
     * }
     */
    public static int cudaMalloc(MemorySegment devPtr, long size) {
        var mh$ = cudaMalloc.HANDLE;
        try {
            return (int) mh$.invokeExact(devPtr, size);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaFree {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaFree");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaFree(void *devPtr)
     * }
     */
    public static FunctionDescriptor cudaFree$descriptor() {
        return cudaFree.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaFree(void *devPtr)
     * }
     */
    public static MethodHandle cudaFree$handle() {
        return cudaFree.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaFree(void *devPtr)
     * }
     */
    public static MemorySegment cudaFree$address() {
        return cudaFree.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaFree(void *devPtr)
     * }
     */
    public static int cudaFree(MemorySegment devPtr) {
        var mh$ = cudaFree.HANDLE;
        try {
            return (int) mh$.invokeExact(devPtr);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaMallocAsync {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_SIZE_T, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaMallocAsync");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaMallocAsync(void **devPtr, size_t size, cudaStream_t hStream)
     * }
     */
    public static FunctionDescriptor cudaMallocAsync$descriptor() {
        return cudaMallocAsync.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaMallocAsync(void **devPtr, size_t size, cudaStream_t hStream)
     * }
     */
    public static MethodHandle cudaMallocAsync$handle() {
        return cudaMallocAsync.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaMallocAsync(void **devPtr, size_t size, cudaStream_t hStream)
     * }
     */
    public static MemorySegment cudaMallocAsync$address() {
        return cudaMallocAsync.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaMallocAsync(void **devPtr, size_t size, cudaStream_t hStream)
     * }
     */
    public static int cudaMallocAsync(MemorySegment devPtr, long size, MemorySegment hStream) {
        var mh$ = cudaMallocAsync.HANDLE;
        try {
            return (int) mh$.invokeExact(devPtr, size, hStream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaFreeAsync {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaFreeAsync");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaFreeAsync(void *devPtr, cudaStream_t hStream)
     * }
     */
    public static FunctionDescriptor cudaFreeAsync$descriptor() {
        return cudaFreeAsync.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaFreeAsync(void *devPtr, cudaStream_t hStream)
     * }
     */
    public static MethodHandle cudaFreeAsync$handle() {
        return cudaFreeAsync.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaFreeAsync(void *devPtr, cudaStream_t hStream)
     * }
     */
    public static MemorySegment cudaFreeAsync$address() {
        return cudaFreeAsync.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaFreeAsync(void *devPtr, cudaStream_t hStream)
     * }
     */
    public static int cudaFreeAsync(MemorySegment devPtr, MemorySegment hStream) {
        var mh$ = cudaFreeAsync.HANDLE;
        try {
            return (int) mh$.invokeExact(devPtr, hStream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaMallocHost {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_SIZE_T);
        static final MemorySegment ADDR = Lib.address("cudaMallocHost");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaMallocHost(void **ptr, size_t size)
     * }
     */
    public static FunctionDescriptor cudaMallocHost$descriptor() {
        return cudaMallocHost.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaMallocHost(void **ptr, size_t size)
     * }
     */
    public static MethodHandle cudaMallocHost$handle() {
        return cudaMallocHost.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaMallocHost(void **ptr, size_t size)
     * }
     */
    public static MemorySegment cudaMallocHost$address() {
        return cudaMallocHost.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaMallocHost(void **ptr, size_t size)
     * }
     */
    public static int cudaMallocHost(MemorySegment ptr, long size) {
        var mh$ = cudaMallocHost.HANDLE;
        try {
            return (int) mh$.invokeExact(ptr, size);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaFreeHost {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaFreeHost");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaFreeHost(void *ptr)
     * }
     */
    public static FunctionDescriptor cudaFreeHost$descriptor() {
        return cudaFreeHost.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaFreeHost(void *ptr)
     * }
     */
    public static MethodHandle cudaFreeHost$handle() {
        return cudaFreeHost.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaFreeHost(void *ptr)
     * }
     */
    public static MemorySegment cudaFreeHost$address() {
        return cudaFreeHost.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaFreeHost(void *ptr)
     * }
     */
    public static int cudaFreeHost(MemorySegment ptr) {
        var mh$ = cudaFreeHost.HANDLE;
        try {
            return (int) mh$.invokeExact(ptr);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaMemcpy {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_SIZE_T, C_INT);
        static final MemorySegment ADDR = Lib.address("cudaMemcpy");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaMemcpy(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind)
     * }
     */
    public static FunctionDescriptor cudaMemcpy$descriptor() {
        return cudaMemcpy.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaMemcpy(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind)
     * }
     */
    public static MethodHandle cudaMemcpy$handle() {
        return cudaMemcpy.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaMemcpy(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind)
     * }
     */
    public static MemorySegment cudaMemcpy$address() {
        return cudaMemcpy.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaMemcpy(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind)
     * }
     */
    public static int cudaMemcpy(MemorySegment dst, MemorySegment src, long count, int kind) {
        var mh$ = cudaMemcpy.HANDLE;
        try {
            return (int) mh$.invokeExact(dst, src, count, kind);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaMemcpyAsync {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_SIZE_T, C_INT, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaMemcpyAsync");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind, cudaStream_t stream)
     * }
     */
    public static FunctionDescriptor cudaMemcpyAsync$descriptor() {
        return cudaMemcpyAsync.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind, cudaStream_t stream)
     * }
     */
    public static MethodHandle cudaMemcpyAsync$handle() {
        return cudaMemcpyAsync.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind, cudaStream_t stream)
     * }
     */
    public static MemorySegment cudaMemcpyAsync$address() {
        return cudaMemcpyAsync.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind, cudaStream_t stream)
     * }
     */
    public static int cudaMemcpyAsync(MemorySegment dst, MemorySegment src, long count, int kind, MemorySegment stream) {
        var mh$ = cudaMemcpyAsync.HANDLE;
        try {
            return (int) mh$.invokeExact(dst, src, count, kind, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaMemset {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_SIZE_T);
        static final MemorySegment ADDR = Lib.address("cudaMemset");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaMemset(void *devPtr, int value, size_t count)
     * }
     */
    public static FunctionDescriptor cudaMemset$descriptor() {
        return cudaMemset.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaMemset(void *devPtr, int value, size_t count)
     * }
     */
    public static MethodHandle cudaMemset$handle() {
        return cudaMemset.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaMemset(void *devPtr, int value, size_t count)
     * }
     */
    public static MemorySegment cudaMemset$address() {
        return cudaMemset.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaMemset(void *devPtr, int value, size_t count)
     * }
     */
    public static int cudaMemset(MemorySegment devPtr, int value, long count) {
        var mh$ = cudaMemset.HANDLE;
        try {
            return (int) mh$.invokeExact(devPtr, value, count);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaMemsetAsync {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_SIZE_T, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaMemsetAsync");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaMemsetAsync(void *devPtr, int value, size_t count, cudaStream_t stream)
     * }
     */
    public static FunctionDescriptor cudaMemsetAsync$descriptor() {
        return cudaMemsetAsync.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaMemsetAsync(void *devPtr, int value, size_t count, cudaStream_t stream)
     * }
     */
    public static MethodHandle cudaMemsetAsync$handle() {
        return cudaMemsetAsync.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaMemsetAsync(void *devPtr, int value, size_t count, cudaStream_t stream)
     * }
     */
    public static MemorySegment cudaMemsetAsync$address() {
        return cudaMemsetAsync.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaMemsetAsync(void *devPtr, int value, size_t count, cudaStream_t stream)
     * }
     */
    public static int cudaMemsetAsync(MemorySegment devPtr, int value, long count, MemorySegment stream) {
        var mh$ = cudaMemsetAsync.HANDLE;
        try {
            return (int) mh$.invokeExact(devPtr, value, count, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaStreamCreateWithFlags {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_INT);
        static final MemorySegment ADDR = Lib.address("cudaStreamCreateWithFlags");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaStreamCreateWithFlags(cudaStream_t *pStream, unsigned int flags)
     * }
     */
    public static FunctionDescriptor cudaStreamCreateWithFlags$descriptor() {
        return cudaStreamCreateWithFlags.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaStreamCreateWithFlags(cudaStream_t *pStream, unsigned int flags)
     * }
     */
    public static MethodHandle cudaStreamCreateWithFlags$handle() {
        return cudaStreamCreateWithFlags.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaStreamCreateWithFlags(cudaStream_t *pStream, unsigned int flags)
     * }
     */
    public static MemorySegment cudaStreamCreateWithFlags$address() {
        return cudaStreamCreateWithFlags.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaStreamCreateWithFlags(cudaStream_t *pStream, unsigned int flags)
     * }
     */
    public static int cudaStreamCreateWithFlags(MemorySegment pStream, int flags) {
        var mh$ = cudaStreamCreateWithFlags.HANDLE;
        try {
            return (int) mh$.invokeExact(pStream, flags);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaStreamDestroy {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaStreamDestroy");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaStreamDestroy(cudaStream_t stream)
     * }
     */
    public static FunctionDescriptor cudaStreamDestroy$descriptor() {
        return cudaStreamDestroy.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaStreamDestroy(cudaStream_t stream)
     * }
     */
    public static MethodHandle cudaStreamDestroy$handle() {
        return cudaStreamDestroy.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaStreamDestroy(cudaStream_t stream)
     * }
     */
    public static MemorySegment cudaStreamDestroy$address() {
        return cudaStreamDestroy.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaStreamDestroy(cudaStream_t stream)
     * }
     */
    public static int cudaStreamDestroy(MemorySegment stream) {
        var mh$ = cudaStreamDestroy.HANDLE;
        try {
            return (int) mh$.invokeExact(stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaStreamSynchronize {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaStreamSynchronize");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaStreamSynchronize(cudaStream_t stream)
     * }
     */
    public static FunctionDescriptor cudaStreamSynchronize$descriptor() {
        return cudaStreamSynchronize.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaStreamSynchronize(cudaStream_t stream)
     * }
     */
    public static MethodHandle cudaStreamSynchronize$handle() {
        return cudaStreamSynchronize.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaStreamSynchronize(cudaStream_t stream)
     * }
     */
    public static MemorySegment cudaStreamSynchronize$address() {
        return cudaStreamSynchronize.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaStreamSynchronize(cudaStream_t stream)
     * }
     */
    public static int cudaStreamSynchronize(MemorySegment stream) {
        var mh$ = cudaStreamSynchronize.HANDLE;
        try {
            return (int) mh$.invokeExact(stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaEventCreate {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaEventCreate");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaEventCreate(cudaEvent_t *event)
     * }
     */
    public static FunctionDescriptor cudaEventCreate$descriptor() {
        return cudaEventCreate.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaEventCreate(cudaEvent_t *event)
     * }
     */
    public static MethodHandle cudaEventCreate$handle() {
        return cudaEventCreate.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaEventCreate(cudaEvent_t *event)
     * }
     */
    public static MemorySegment cudaEventCreate$address() {
        return cudaEventCreate.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaEventCreate(cudaEvent_t *event)
     * }
     */
    public static int cudaEventCreate(MemorySegment event) {
        var mh$ = cudaEventCreate.HANDLE;
        try {
            return (int) mh$.invokeExact(event);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaEventCreateWithFlags {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_INT);
        static final MemorySegment ADDR = Lib.address("cudaEventCreateWithFlags");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaEventCreateWithFlags(cudaEvent_t *event, unsigned int flags)
     * }
     */
    public static FunctionDescriptor cudaEventCreateWithFlags$descriptor() {
        return cudaEventCreateWithFlags.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaEventCreateWithFlags(cudaEvent_t *event, unsigned int flags)
     * }
     */
    public static MethodHandle cudaEventCreateWithFlags$handle() {
        return cudaEventCreateWithFlags.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaEventCreateWithFlags(cudaEvent_t *event, unsigned int flags)
     * }
     */
    public static MemorySegment cudaEventCreateWithFlags$address() {
        return cudaEventCreateWithFlags.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaEventCreateWithFlags(cudaEvent_t *event, unsigned int flags)
     * }
     */
    public static int cudaEventCreateWithFlags(MemorySegment event, int flags) {
        var mh$ = cudaEventCreateWithFlags.HANDLE;
        try {
            return (int) mh$.invokeExact(event, flags);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaEventRecord {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaEventRecord");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream)
     * }
     */
    public static FunctionDescriptor cudaEventRecord$descriptor() {
        return cudaEventRecord.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream)
     * }
     */
    public static MethodHandle cudaEventRecord$handle() {
        return cudaEventRecord.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream)
     * }
     */
    public static MemorySegment cudaEventRecord$address() {
        return cudaEventRecord.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream)
     * }
     */
    public static int cudaEventRecord(MemorySegment event, MemorySegment stream) {
        var mh$ = cudaEventRecord.HANDLE;
        try {
            return (int) mh$.invokeExact(event, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaEventSynchronize {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaEventSynchronize");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaEventSynchronize(cudaEvent_t event)
     * }
     */
    public static FunctionDescriptor cudaEventSynchronize$descriptor() {
        return cudaEventSynchronize.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaEventSynchronize(cudaEvent_t event)
     * }
     */
    public static MethodHandle cudaEventSynchronize$handle() {
        return cudaEventSynchronize.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaEventSynchronize(cudaEvent_t event)
     * }
     */
    public static MemorySegment cudaEventSynchronize$address() {
        return cudaEventSynchronize.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaEventSynchronize(cudaEvent_t event)
     * }
     */
    public static int cudaEventSynchronize(MemorySegment event) {
        var mh$ = cudaEventSynchronize.HANDLE;
        try {
            return (int) mh$.invokeExact(event);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaEventElapsedTime {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaEventElapsedTime");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t end)
     * }
     */
    public static FunctionDescriptor cudaEventElapsedTime$descriptor() {
        return cudaEventElapsedTime.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t end)
     * }
     */
    public static MethodHandle cudaEventElapsedTime$handle() {
        return cudaEventElapsedTime.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t end)
     * }
     */
    public static MemorySegment cudaEventElapsedTime$address() {
        return cudaEventElapsedTime.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t end)
     * }
     */
    public static int cudaEventElapsedTime(MemorySegment ms, MemorySegment start, MemorySegment end) {
        var mh$ = cudaEventElapsedTime.HANDLE;
        try {
            return (int) mh$.invokeExact(ms, start, end);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaEventDestroy {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaEventDestroy");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaEventDestroy(cudaEvent_t event)
     * }
     */
    public static FunctionDescriptor cudaEventDestroy$descriptor() {
        return cudaEventDestroy.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaEventDestroy(cudaEvent_t event)
     * }
     */
    public static MethodHandle cudaEventDestroy$handle() {
        return cudaEventDestroy.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaEventDestroy(cudaEvent_t event)
     * }
     */
    public static MemorySegment cudaEventDestroy$address() {
        return cudaEventDestroy.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaEventDestroy(cudaEvent_t event)
     * }
     */
    public static int cudaEventDestroy(MemorySegment event) {
        var mh$ = cudaEventDestroy.HANDLE;
        try {
            return (int) mh$.invokeExact(event);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaLibraryLoadData {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_INT, C_POINTER, C_POINTER, C_INT);
        static final MemorySegment ADDR = Lib.address("cudaLibraryLoadData");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaLibraryLoadData(cudaLibrary_t *library, const void *code, enum cudaJitOption *jitOptions, void **jitOptionsValues, unsigned int numJitOptions, enum cudaLibraryOption *libraryOptions, void **libraryOptionValues, unsigned int numLibraryOptions)
     * }
     */
    public static FunctionDescriptor cudaLibraryLoadData$descriptor() {
        return cudaLibraryLoadData.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaLibraryLoadData(cudaLibrary_t *library, const void *code, enum cudaJitOption *jitOptions, void **jitOptionsValues, unsigned int numJitOptions, enum cudaLibraryOption *libraryOptions, void **libraryOptionValues, unsigned int numLibraryOptions)
     * }
     */
    public static MethodHandle cudaLibraryLoadData$handle() {
        return cudaLibraryLoadData.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaLibraryLoadData(cudaLibrary_t *library, const void *code, enum cudaJitOption *jitOptions, void **jitOptionsValues, unsigned int numJitOptions, enum cudaLibraryOption *libraryOptions, void **libraryOptionValues, unsigned int numLibraryOptions)
     * }
     */
    public static MemorySegment cudaLibraryLoadData$address() {
        return cudaLibraryLoadData.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaLibraryLoadData(cudaLibrary_t *library, const void *code, enum cudaJitOption *jitOptions, void **jitOptionsValues, unsigned int numJitOptions, enum cudaLibraryOption *libraryOptions, void **libraryOptionValues, unsigned int numLibraryOptions)
     * }
     * {@code code} is a NUL-terminated PTX string or a cubin/fatbin image; option arrays may be
     * {@link MemorySegment#NULL} with a count of 0.
     */
    public static int cudaLibraryLoadData(MemorySegment library, MemorySegment code, MemorySegment jitOptions, MemorySegment jitOptionsValues, int numJitOptions, MemorySegment libraryOptions, MemorySegment libraryOptionValues, int numLibraryOptions) {
        var mh$ = cudaLibraryLoadData.HANDLE;
        try {
            return (int) mh$.invokeExact(library, code, jitOptions, jitOptionsValues, numJitOptions, libraryOptions, libraryOptionValues, numLibraryOptions);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaLibraryUnload {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaLibraryUnload");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaLibraryUnload(cudaLibrary_t library)
     * }
     */
    public static FunctionDescriptor cudaLibraryUnload$descriptor() {
        return cudaLibraryUnload.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaLibraryUnload(cudaLibrary_t library)
     * }
     */
    public static MethodHandle cudaLibraryUnload$handle() {
        return cudaLibraryUnload.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaLibraryUnload(cudaLibrary_t library)
     * }
     */
    public static MemorySegment cudaLibraryUnload$address() {
        return cudaLibraryUnload.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaLibraryUnload(cudaLibrary_t library)
     * }
     */
    public static int cudaLibraryUnload(MemorySegment library) {
        var mh$ = cudaLibraryUnload.HANDLE;
        try {
            return (int) mh$.invokeExact(library);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaLibraryGetKernel {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaLibraryGetKernel");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaLibraryGetKernel(cudaKernel_t *pKernel, cudaLibrary_t library, const char *name)
     * }
     */
    public static FunctionDescriptor cudaLibraryGetKernel$descriptor() {
        return cudaLibraryGetKernel.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaLibraryGetKernel(cudaKernel_t *pKernel, cudaLibrary_t library, const char *name)
     * }
     */
    public static MethodHandle cudaLibraryGetKernel$handle() {
        return cudaLibraryGetKernel.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaLibraryGetKernel(cudaKernel_t *pKernel, cudaLibrary_t library, const char *name)
     * }
     */
    public static MemorySegment cudaLibraryGetKernel$address() {
        return cudaLibraryGetKernel.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaLibraryGetKernel(cudaKernel_t *pKernel, cudaLibrary_t library, const char *name)
     * }
     */
    public static int cudaLibraryGetKernel(MemorySegment pKernel, MemorySegment library, MemorySegment name) {
        var mh$ = cudaLibraryGetKernel.HANDLE;
        try {
            return (int) mh$.invokeExact(pKernel, library, name);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    private static final class cudaLaunchKernel {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER, DIM3, DIM3, C_POINTER, C_SIZE_T, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaLaunchKernel");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaLaunchKernel(const void *func, dim3 gridDim, dim3 blockDim, void **args, size_t sharedMem, cudaStream_t stream)
     * }
     */
    public static FunctionDescriptor cudaLaunchKernel$descriptor() {
        return cudaLaunchKernel.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaLaunchKernel(const void *func, dim3 gridDim, dim3 blockDim, void **args, size_t sharedMem, cudaStream_t stream)
     * }
     */
    public static MethodHandle cudaLaunchKernel$handle() {
        return cudaLaunchKernel.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaLaunchKernel(const void *func, dim3 gridDim, dim3 blockDim, void **args, size_t sharedMem, cudaStream_t stream)
     * }
     */
    public static MemorySegment cudaLaunchKernel$address() {
        return cudaLaunchKernel.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaLaunchKernel(const void *func, dim3 gridDim, dim3 blockDim, void **args, size_t sharedMem, cudaStream_t stream)
     * }
     * {@code func} may be a {@code cudaKernel_t} from {@link #cudaLibraryGetKernel}; {@code gridDim} and
     * {@code blockDim} are {@link #DIM3} segments (see {@link #dim3}), copied by value; {@code args}
     * is an array of pointers, one to each kernel argument's value.
     */
    public static int cudaLaunchKernel(MemorySegment func, MemorySegment gridDim, MemorySegment blockDim, MemorySegment args, long sharedMem, MemorySegment stream) {
        var mh$ = cudaLaunchKernel.HANDLE;
        try {
            return (int) mh$.invokeExact(func, gridDim, blockDim, args, sharedMem, stream);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    // Short, never blocks, never calls back into Java: safe as a critical call, which skips the thread-state switch.
    private static final class cudaGetLastError {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT);
        static final MemorySegment ADDR = Lib.address("cudaGetLastError");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC, Linker.Option.critical(false));
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaGetLastError(void)
     * }
     */
    public static FunctionDescriptor cudaGetLastError$descriptor() {
        return cudaGetLastError.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaGetLastError(void)
     * }
     */
    public static MethodHandle cudaGetLastError$handle() {
        return cudaGetLastError.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaGetLastError(void)
     * }
     */
    public static MemorySegment cudaGetLastError$address() {
        return cudaGetLastError.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaGetLastError(void)
     * }
     */
    public static int cudaGetLastError() {
        var mh$ = cudaGetLastError.HANDLE;
        try {
            return (int) mh$.invokeExact();
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    // Short, never blocks, never calls back into Java: safe as a critical call, which skips the thread-state switch.
    private static final class cudaPeekAtLastError {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT);
        static final MemorySegment ADDR = Lib.address("cudaPeekAtLastError");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC, Linker.Option.critical(false));
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * cudaError_t cudaPeekAtLastError(void)
     * }
     */
    public static FunctionDescriptor cudaPeekAtLastError$descriptor() {
        return cudaPeekAtLastError.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * cudaError_t cudaPeekAtLastError(void)
     * }
     */
    public static MethodHandle cudaPeekAtLastError$handle() {
        return cudaPeekAtLastError.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * cudaError_t cudaPeekAtLastError(void)
     * }
     */
    public static MemorySegment cudaPeekAtLastError$address() {
        return cudaPeekAtLastError.ADDR;
    }

    /**
     * {@snippet lang=c :
     * cudaError_t cudaPeekAtLastError(void)
     * }
     */
    public static int cudaPeekAtLastError() {
        var mh$ = cudaPeekAtLastError.HANDLE;
        try {
            return (int) mh$.invokeExact();
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    // Short, never blocks, never calls back into Java: safe as a critical call, which skips the thread-state switch.
    private static final class cudaGetErrorName {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_INT);
        static final MemorySegment ADDR = Lib.address("cudaGetErrorName");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC, Linker.Option.critical(false));
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * const char *cudaGetErrorName(cudaError_t error)
     * }
     */
    public static FunctionDescriptor cudaGetErrorName$descriptor() {
        return cudaGetErrorName.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * const char *cudaGetErrorName(cudaError_t error)
     * }
     */
    public static MethodHandle cudaGetErrorName$handle() {
        return cudaGetErrorName.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * const char *cudaGetErrorName(cudaError_t error)
     * }
     */
    public static MemorySegment cudaGetErrorName$address() {
        return cudaGetErrorName.ADDR;
    }

    /**
     * {@snippet lang=c :
     * const char *cudaGetErrorName(cudaError_t error)
     * }
     */
    public static MemorySegment cudaGetErrorName(int error) {
        var mh$ = cudaGetErrorName.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact(error);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    // Short, never blocks, never calls back into Java: safe as a critical call, which skips the thread-state switch.
    private static final class cudaGetErrorString {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_INT);
        static final MemorySegment ADDR = Lib.address("cudaGetErrorString");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC, Linker.Option.critical(false));
    }

    /**
     * Function descriptor for:
     * {@snippet lang=c :
     * const char *cudaGetErrorString(cudaError_t error)
     * }
     */
    public static FunctionDescriptor cudaGetErrorString$descriptor() {
        return cudaGetErrorString.DESC;
    }

    /**
     * Downcall method handle for:
     * {@snippet lang=c :
     * const char *cudaGetErrorString(cudaError_t error)
     * }
     */
    public static MethodHandle cudaGetErrorString$handle() {
        return cudaGetErrorString.HANDLE;
    }

    /**
     * Address for:
     * {@snippet lang=c :
     * const char *cudaGetErrorString(cudaError_t error)
     * }
     */
    public static MemorySegment cudaGetErrorString$address() {
        return cudaGetErrorString.ADDR;
    }

    /**
     * {@snippet lang=c :
     * const char *cudaGetErrorString(cudaError_t error)
     * }
     */
    public static MemorySegment cudaGetErrorString(int error) {
        var mh$ = cudaGetErrorString.HANDLE;
        try {
            return (MemorySegment) mh$.invokeExact(error);
        } catch (Error | RuntimeException ex) {
            throw ex;
        } catch (Throwable ex$) {
            throw new AssertionError("should not reach here", ex$);
        }
    }

    // Enum values and macros from the CUDA 13 headers, as int getters the way jextract emits them.

    /** {@code cudaDevAttrMultiProcessorCount = 16} (enum cudaDeviceAttr, driver_types.h). */
    public static int cudaDevAttrMultiProcessorCount() {
        return 16;
    }

    /** {@code cudaDevAttrMemoryClockRate = 36} (enum cudaDeviceAttr, driver_types.h). */
    public static int cudaDevAttrMemoryClockRate() {
        return 36;
    }

    /** {@code cudaDevAttrComputeCapabilityMajor = 75} (enum cudaDeviceAttr, driver_types.h). */
    public static int cudaDevAttrComputeCapabilityMajor() {
        return 75;
    }

    /** {@code cudaDevAttrComputeCapabilityMinor = 76} (enum cudaDeviceAttr, driver_types.h). */
    public static int cudaDevAttrComputeCapabilityMinor() {
        return 76;
    }

    /** {@code cudaSuccess = 0} (enum cudaError, driver_types.h). */
    public static int cudaSuccess() {
        return 0;
    }

    /** {@code cudaErrorMemoryAllocation = 2} (enum cudaError, driver_types.h). */
    public static int cudaErrorMemoryAllocation() {
        return 2;
    }

    /** {@code cudaErrorInitializationError = 3} (enum cudaError, driver_types.h). */
    public static int cudaErrorInitializationError() {
        return 3;
    }

    /** {@code cudaErrorStubLibrary = 34} (enum cudaError, driver_types.h). */
    public static int cudaErrorStubLibrary() {
        return 34;
    }

    /** {@code cudaErrorCallRequiresNewerDriver = 36} (enum cudaError, driver_types.h). */
    public static int cudaErrorCallRequiresNewerDriver() {
        return 36;
    }

    /** {@code cudaErrorJitCompilerNotFound = 221} (enum cudaError, driver_types.h). */
    public static int cudaErrorJitCompilerNotFound() {
        return 221;
    }

    /** {@code cudaErrorInsufficientDriver = 35} (enum cudaError, driver_types.h). */
    public static int cudaErrorInsufficientDriver() {
        return 35;
    }

    /** {@code cudaErrorDevicesUnavailable = 46} (enum cudaError, driver_types.h). */
    public static int cudaErrorDevicesUnavailable() {
        return 46;
    }

    /** {@code cudaErrorNoDevice = 100} (enum cudaError, driver_types.h). */
    public static int cudaErrorNoDevice() {
        return 100;
    }

    /** {@code cudaErrorDeviceNotLicensed = 102} (enum cudaError, driver_types.h). */
    public static int cudaErrorDeviceNotLicensed() {
        return 102;
    }

    /** {@code cudaErrorSoftwareValidityNotEstablished = 103} (enum cudaError, driver_types.h). */
    public static int cudaErrorSoftwareValidityNotEstablished() {
        return 103;
    }

    /** {@code cudaErrorStartupFailure = 127} (enum cudaError, driver_types.h). */
    public static int cudaErrorStartupFailure() {
        return 127;
    }

    /** {@code cudaErrorSystemNotReady = 802} (enum cudaError, driver_types.h). */
    public static int cudaErrorSystemNotReady() {
        return 802;
    }

    /** {@code cudaErrorSystemDriverMismatch = 803} (enum cudaError, driver_types.h). */
    public static int cudaErrorSystemDriverMismatch() {
        return 803;
    }

    /** {@code cudaErrorCompatNotSupportedOnDevice = 804} (enum cudaError, driver_types.h). */
    public static int cudaErrorCompatNotSupportedOnDevice() {
        return 804;
    }

    /** {@code cudaMemcpyHostToDevice = 1} (enum cudaMemcpyKind, driver_types.h). */
    public static int cudaMemcpyHostToDevice() {
        return 1;
    }

    /** {@code cudaMemcpyDeviceToHost = 2} (enum cudaMemcpyKind, driver_types.h). */
    public static int cudaMemcpyDeviceToHost() {
        return 2;
    }

    /** {@code cudaMemcpyDeviceToDevice = 3} (enum cudaMemcpyKind, driver_types.h). */
    public static int cudaMemcpyDeviceToDevice() {
        return 3;
    }

    /** {@code cudaMemcpyDefault = 4} (enum cudaMemcpyKind, driver_types.h). */
    public static int cudaMemcpyDefault() {
        return 4;
    }

    /** {@code cudaEventDefault = 0} (event flag macro, driver_types.h). */
    public static int cudaEventDefault() {
        return 0;
    }

    /** {@code cudaEventDisableTiming = 2} (event flag macro, driver_types.h). */
    public static int cudaEventDisableTiming() {
        return 2;
    }

    /** {@code cudaStreamDefault = 0} (stream flag macro, driver_types.h). */
    public static int cudaStreamDefault() {
        return 0;
    }

    /** {@code cudaStreamNonBlocking = 1} (stream flag macro, driver_types.h). */
    public static int cudaStreamNonBlocking() {
        return 1;
    }

    /** Reads a C string the runtime returned (static storage, never freed). */
    public static String string(MemorySegment cString) {
        return cString.address() == 0 ? "(null)" : cString.reinterpret(4096).getString(0);
    }

    /** An int out-parameter in {@code arena}. */
    public static MemorySegment intOut(Arena arena) {
        return arena.allocate(C_INT);
    }
}
