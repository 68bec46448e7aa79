package dev.qlora4j.cuda;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Loading CUDA on machines with and without it: a typed answer, never a crash. */
class CudaProbeTest {

    @Test
    void aMissingLibraryListsEveryPathTried() {
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                () -> CudaLibraries.load("nosuchlib", "libqlora4j-no-such-library.so.1"));
        assertTrue(e.getMessage().contains("/usr/local/cuda/lib64/libqlora4j-no-such-library.so.1"), e.getMessage());
        assertTrue(e.getMessage().contains("-Dqlora4j.cuda.nosuchlib="), e.getMessage());
    }

    @Test
    void theProbeAlwaysAnswers() {
        CudaProbe.Result r = CudaProbe.run();
        assertFalse(r.detail().isBlank());
        if (r.usable()) {
            // CUDA 12 (12.8 on, which the probe checks by the functions it exports) or 13.
            assertTrue(r.deviceCount() > 0 && r.runtimeVersion() >= 12080, r.toString());
        }
    }

    @Test
    void theProbeNamesEveryBoundFunctionALibraryLacks() {
        SymbolLookup none = name -> Optional.empty();
        List<String> runtime = CudaProbe.missing(none, cuda_runtime_h.class, Set.of());
        assertEquals(35, runtime.size(), runtime.toString());
        assertTrue(runtime.containsAll(List.of("cudaLaunchKernel", "cudaLibraryLoadData", "cudaLibraryGetKernel")), runtime.toString());
        assertFalse(runtime.contains("Lib"), runtime.toString());
        // A CUDA 12 runtime older than 12.8: everything but the kernel lookup.
        SymbolLookup old = name -> name.equals("cudaLibraryGetKernel") ? Optional.empty() : Optional.of(MemorySegment.NULL);
        assertEquals(List.of("cudaLibraryGetKernel"), CudaProbe.missing(old, cuda_runtime_h.class, Set.of()));
        List<String> cublas = CudaProbe.missing(none, cublas_api_h.class, Cublas.OPTIONAL_FUNCTIONS);
        assertTrue(cublas.contains("cublasGemmStridedBatchedEx") && !cublas.contains("cublasGetStatusName"), cublas.toString());
    }

    @Test
    void withTheRuntimeButNoGpuTheErrorIsNamed() {
        assumeTrue(CudaTestSupport.runtimeLoads(), "no CUDA runtime installed here");
        CudaProbe.Result r = CudaProbe.run();
        assumeTrue(!r.usable(), "a usable GPU is present");
        assertTrue(r.runtimeVersion() >= 12000, r.toString());
        // Without a driver the runtime answers cudaErrorInsufficientDriver (35) or cudaErrorNoDevice (100).
        assertTrue(r.detail().contains("cudaErrorInsufficientDriver") || r.detail().contains("cudaErrorNoDevice"), r.detail());
    }
}
