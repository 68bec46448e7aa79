package dev.qlora4j.engine.cuda;

import dev.qlora4j.cuda.CudaException;
import dev.qlora4j.cuda.CudaLibraries;
import dev.qlora4j.cuda.CudaUnavailableException;
import dev.qlora4j.engine.Device;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A kernel fault is reported by whichever CUDA call comes after it: the message must say so, not
 * blame that call. Needs only the runtime library (for the error's name), no GPU.
 */
class CudaErrorMessageTest {
    private static boolean runtimeLoads() {
        try {
            CudaLibraries.cudart();
            return true;
        } catch (CudaUnavailableException e) {
            return false;
        }
    }

    @Test
    void aKernelFaultSaysAnEarlierLaunchFailed() {
        assumeTrue(runtimeLoads(), "no CUDA runtime here");
        CudaException e = assertThrows(CudaException.class, () -> CudaContext.check(700, "cudaMemcpyAsync", Device.cuda(1)));
        assertEquals(700, e.code());
        assertTrue(e.getMessage().startsWith("cudaMemcpyAsync on cuda:1 (reporting a kernel"), e.getMessage());
        assertTrue(e.getMessage().contains("CUDA_LAUNCH_BLOCKING=1") && e.getMessage().contains("cudaErrorIllegalAddress"), e.getMessage());
    }

    @Test
    void otherErrorsKeepTheirPlainMessage() {
        assumeTrue(runtimeLoads(), "no CUDA runtime here");
        CudaException e = assertThrows(CudaException.class, () -> CudaContext.check(1, "cudaMemcpyAsync", Device.cuda(0)));
        assertFalse(e.getMessage().contains("CUDA_LAUNCH_BLOCKING"), e.getMessage());
        CudaContext.check(0, "cudaMemcpyAsync", Device.cuda(0));
    }
}
