package dev.qlora4j.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Bindings to libcudart (CUDA 13), in the shape jextract generates: one holder class per
 * function with its descriptor, address and handle, created on first use. Written by hand because
 * jextract is not available as a build dependency.
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
    private static final ValueLayout C_POINTER = ValueLayout.ADDRESS;

    // cudaError_t cudaRuntimeGetVersion(int *runtimeVersion)
    private static final class cudaRuntimeGetVersion {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaRuntimeGetVersion");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    public static FunctionDescriptor cudaRuntimeGetVersion$descriptor() {
        return cudaRuntimeGetVersion.DESC;
    }

    public static MemorySegment cudaRuntimeGetVersion$address() {
        return cudaRuntimeGetVersion.ADDR;
    }

    public static int cudaRuntimeGetVersion(MemorySegment runtimeVersion) {
        try {
            return (int) cudaRuntimeGetVersion.HANDLE.invokeExact(runtimeVersion);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    // cudaError_t cudaDriverGetVersion(int *driverVersion)
    private static final class cudaDriverGetVersion {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaDriverGetVersion");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    public static FunctionDescriptor cudaDriverGetVersion$descriptor() {
        return cudaDriverGetVersion.DESC;
    }

    public static MemorySegment cudaDriverGetVersion$address() {
        return cudaDriverGetVersion.ADDR;
    }

    public static int cudaDriverGetVersion(MemorySegment driverVersion) {
        try {
            return (int) cudaDriverGetVersion.HANDLE.invokeExact(driverVersion);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    // cudaError_t cudaGetDeviceCount(int *count)
    private static final class cudaGetDeviceCount {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_INT, C_POINTER);
        static final MemorySegment ADDR = Lib.address("cudaGetDeviceCount");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC);
    }

    public static FunctionDescriptor cudaGetDeviceCount$descriptor() {
        return cudaGetDeviceCount.DESC;
    }

    public static MemorySegment cudaGetDeviceCount$address() {
        return cudaGetDeviceCount.ADDR;
    }

    public static int cudaGetDeviceCount(MemorySegment count) {
        try {
            return (int) cudaGetDeviceCount.HANDLE.invokeExact(count);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    // const char* cudaGetErrorName(cudaError_t error) — short and never calls back: a critical call.
    private static final class cudaGetErrorName {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_INT);
        static final MemorySegment ADDR = Lib.address("cudaGetErrorName");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC, Linker.Option.critical(false));
    }

    public static FunctionDescriptor cudaGetErrorName$descriptor() {
        return cudaGetErrorName.DESC;
    }

    public static MemorySegment cudaGetErrorName$address() {
        return cudaGetErrorName.ADDR;
    }

    public static MemorySegment cudaGetErrorName(int error) {
        try {
            return (MemorySegment) cudaGetErrorName.HANDLE.invokeExact(error);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
    }

    // const char* cudaGetErrorString(cudaError_t error)
    private static final class cudaGetErrorString {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(C_POINTER, C_INT);
        static final MemorySegment ADDR = Lib.address("cudaGetErrorString");
        static final MethodHandle HANDLE = Lib.LINKER.downcallHandle(ADDR, DESC, Linker.Option.critical(false));
    }

    public static FunctionDescriptor cudaGetErrorString$descriptor() {
        return cudaGetErrorString.DESC;
    }

    public static MemorySegment cudaGetErrorString$address() {
        return cudaGetErrorString.ADDR;
    }

    public static MemorySegment cudaGetErrorString(int error) {
        try {
            return (MemorySegment) cudaGetErrorString.HANDLE.invokeExact(error);
        } catch (Throwable t) {
            throw new AssertionError("should not reach here", t);
        }
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
