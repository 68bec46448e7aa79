package dev.qlora4j.cuda;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Cuda.check turns return codes into typed exceptions named by the runtime itself. */
class CudaCheckTest {

    private static void assumeRuntimeWithoutGpu() {
        assumeTrue(CudaTestSupport.runtimeLoads(), "libcudart not installed here");
        assumeTrue(!CudaProbe.run().usable(), "a usable GPU is present");
    }

    /** Where the driver is missing (this CI box) the runtime says 35; where only the device is, 100. */
    private static void assertNoDriverOrDevice(CudaUnavailableException e, String function) {
        String name = e.errorName().orElseThrow();
        assertTrue(name.equals("cudaErrorInsufficientDriver") || name.equals("cudaErrorNoDevice"), e.getMessage());
        assertTrue(e.getMessage().startsWith(function + " failed: " + name + " (" + e.code().orElseThrow() + "): "),
                e.getMessage());
    }

    @Test
    void successPasses() {
        Cuda.check(cuda_runtime_h.cudaSuccess(), "cudaFree");
    }

    @Test
    void noDriverFromGetDeviceCountIsUnavailableNotACrash() {
        assumeRuntimeWithoutGpu();
        try (Arena arena = Arena.ofConfined()) {
            int rc = cuda_runtime_h.cudaGetDeviceCount(cuda_runtime_h.intOut(arena));
            CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                    () -> Cuda.check(rc, "cudaGetDeviceCount"));
            assertNoDriverOrDevice(e, "cudaGetDeviceCount");
        }
    }

    @Test
    void noDriverFromSetDeviceIsUnavailable() {
        assumeRuntimeWithoutGpu();
        int rc = cuda_runtime_h.cudaSetDevice(0);
        assertNoDriverOrDevice(assertThrows(CudaUnavailableException.class, () -> Cuda.check(rc, "cudaSetDevice")),
                "cudaSetDevice");
    }

    @Test
    void theInsufficientDriverCodeIsNamedByTheRuntime() {
        assumeTrue(CudaTestSupport.runtimeLoads(), "libcudart not installed here");
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                () -> Cuda.check(cuda_runtime_h.cudaErrorInsufficientDriver(), "cudaGetDeviceCount"));
        assertEquals(35, e.code().orElseThrow());
        assertEquals("cudaErrorInsufficientDriver", e.errorName().orElseThrow());
        assertEquals("cudaGetDeviceCount failed: cudaErrorInsufficientDriver (35): "
                + "CUDA driver version is insufficient for CUDA runtime version", e.getMessage());
    }

    @Test
    void anotherCodeIsACudaExceptionWithTheRuntimesNameAndMessage() {
        assumeTrue(CudaTestSupport.runtimeLoads(), "libcudart not installed here");
        CudaException e = assertThrows(CudaException.class,
                () -> Cuda.check(cuda_runtime_h.cudaErrorMemoryAllocation(), "cudaMalloc"));
        assertEquals("cudaMalloc", e.function());
        assertEquals(2, e.code());
        assertEquals("cudaErrorMemoryAllocation", e.errorName());
        String runtimes = cuda_runtime_h.string(cuda_runtime_h.cudaGetErrorString(2));
        assertEquals(runtimes, e.errorString());
        assertEquals("out of memory", runtimes);
        assertEquals("cudaMalloc failed: cudaErrorMemoryAllocation (2): out of memory", e.getMessage());
    }

    @Test
    void onlyNoDriverNoDeviceOrNoCompilerCodesMeanUnavailable() {
        // 36: the driver is too old for a call; 221: no JIT compiler for the PTX kernels.
        for (int code : new int[] {3, 34, 35, 36, 46, 100, 102, 103, 127, 221, 802, 803, 804}) {
            assertTrue(Cuda.meansUnavailable(code), "code " + code);
        }
        for (int code : new int[] {0, 1, 2, 98, 101, 200, 209, 700, 999}) {
            assertFalse(Cuda.meansUnavailable(code), "code " + code);
        }
    }

    @Test
    void aLibraryThatDidNotLoadHasNoCode() {
        CudaUnavailableException e = new CudaUnavailableException("libcudart.so.13 could not be loaded");
        assertTrue(e.code().isEmpty());
        assertTrue(e.errorName().isEmpty());
    }

    @Test
    void theLastErrorIsStickyAfterAFailedInitialisation() {
        assumeRuntimeWithoutGpu();
        try (Arena arena = Arena.ofConfined()) {
            int rc = cuda_runtime_h.cudaMalloc(arena.allocate(ValueLayout.ADDRESS), 16);
            assertTrue(Cuda.meansUnavailable(rc), Cuda.describe(rc));
            // cudaGetLastError normally resets the error; an initialisation failure stays.
            assertEquals(rc, cuda_runtime_h.cudaGetLastError());
            assertEquals(rc, cuda_runtime_h.cudaGetLastError());
        }
    }
}
