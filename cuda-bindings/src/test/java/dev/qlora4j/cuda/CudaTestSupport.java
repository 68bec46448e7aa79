package dev.qlora4j.cuda;

/** What the machine running the tests offers, for skipping tests that need it. */
final class CudaTestSupport {
    private CudaTestSupport() {
    }

    static boolean runtimeLoads() {
        try {
            CudaLibraries.cudart();
            return true;
        } catch (CudaUnavailableException e) {
            return false;
        }
    }

    static boolean cublasLoads() {
        try {
            CudaLibraries.cublas();
            return true;
        } catch (CudaUnavailableException e) {
            return false;
        }
    }
}
