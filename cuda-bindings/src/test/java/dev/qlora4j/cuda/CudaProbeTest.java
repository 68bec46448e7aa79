package dev.qlora4j.cuda;

import org.junit.jupiter.api.Test;

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
            assertTrue(r.deviceCount() > 0 && r.runtimeVersion() >= 13000, r.toString());
        }
    }

    @Test
    void withTheRuntimeButNoGpuTheErrorIsNamed() {
        assumeTrue(CudaTestSupport.runtimeLoads(), "no CUDA runtime installed here");
        CudaProbe.Result r = CudaProbe.run();
        assumeTrue(!r.usable(), "a usable GPU is present");
        assertTrue(r.runtimeVersion() >= 13000, r.toString());
        // Without a driver the runtime answers cudaErrorInsufficientDriver (35) or cudaErrorNoDevice (100).
        assertTrue(r.detail().contains("cudaErrorInsufficientDriver") || r.detail().contains("cudaErrorNoDevice"), r.detail());
    }
}
