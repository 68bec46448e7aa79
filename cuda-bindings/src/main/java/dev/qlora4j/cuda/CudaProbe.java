package dev.qlora4j.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Answers "can this process use CUDA, and if not, why?" without ever crashing: the library may be
 * missing, the driver absent or too old, or no device present. The answer is computed once.
 */
public final class CudaProbe {
    /**
     * @param usable         a device can be used
     * @param detail         what was found, or why CUDA is not usable
     * @param runtimeVersion e.g. 13000 for CUDA 13.0; 0 when the runtime did not load
     * @param deviceCount    devices the runtime reports
     * @param emulated       the runtime is qlora4j's host emulator (cuda/emulator/), not NVIDIA's: its
     *                       "device" is the CPU running the kernel sources, for tests without a GPU
     */
    public record Result(boolean usable, String detail, int runtimeVersion, int deviceCount, boolean emulated) {
        /** The runtime version as "major.minor", e.g. "13.0"; "0.0" when the runtime did not load. */
        public String runtimeVersionText() {
            return versionText(runtimeVersion);
        }
    }

    /** A function only qlora4j's CUDA host emulator exports. */
    static final String EMULATOR_SYMBOL = "qlora4jEmulatorLiveBytes";

    private static volatile Result cached;

    private CudaProbe() {
    }

    /**
     * The answer for this process: probed at the first call, which loads the CUDA runtime and cuBLAS
     * when they are present, and cached after. Reports a failure in the result rather than throwing.
     */
    public static Result run() {
        Result r = cached;
        if (r == null) {
            r = probe();
            cached = r;
        }
        return r;
    }

    private static Result probe() {
        try {
            // Loading first turns a missing library into a typed answer; the bindings' own first
            // call would report it as an ExceptionInInitializerError.
            CudaLibraries.cudart();
        } catch (CudaUnavailableException e) {
            return new Result(false, e.getMessage(), 0, 0, false);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = cuda_runtime_h.intOut(arena);
            int rc = cuda_runtime_h.cudaRuntimeGetVersion(out);
            if (rc != cuda_runtime_h.cudaSuccess()) {
                return new Result(false, "cudaRuntimeGetVersion failed: " + Cuda.describe(rc), 0, 0, false);
            }
            int runtime = out.get(ValueLayout.JAVA_INT, 0);
            // The driver version is 0 when no NVIDIA driver is installed: worth saying before the error.
            int driver = cuda_runtime_h.cudaDriverGetVersion(out) == cuda_runtime_h.cudaSuccess()
                    ? out.get(ValueLayout.JAVA_INT, 0) : 0;
            rc = cuda_runtime_h.cudaGetDeviceCount(out);
            if (rc != cuda_runtime_h.cudaSuccess()) {
                List<String> others = CudaLibraries.rejected().size() > 1 ? CudaLibraries.rejected() : List.of();
                return new Result(false, "CUDA runtime " + versionText(runtime) + " loaded ("
                        + (driver == 0 ? "no NVIDIA driver" : "driver API " + versionText(driver))
                        + "), but cudaGetDeviceCount failed: " + Cuda.describe(rc)
                        + (others.isEmpty() ? "" : "; no other runtime served either: " + String.join(", ", others)),
                        runtime, 0, false);
            }
            int count = out.get(ValueLayout.JAVA_INT, 0);
            if (count == 0) {
                return new Result(false, "CUDA runtime loaded, but no CUDA device is present", runtime, 0, false);
            }
            // The bindings resolve each function at its first call, so a runtime without one would
            // pass this probe and fail mid-run (an ExceptionInInitializerError at the first kernel
            // load): libcudart.so.12 exports cudaLibraryGetKernel, which loads our kernels, only
            // from CUDA 12.8 on.
            List<String> missing = missing(CudaLibraries.cudart(), cuda_runtime_h.class, Set.of());
            if (!missing.isEmpty()) {
                return new Result(false, "the CUDA runtime " + versionText(runtime) + " lacks " + String.join(", ", missing)
                        + ", which qlora4j calls; it needs the runtime of CUDA 12.8 or newer", runtime, count, false);
            }
            try {
                missing = missing(CudaLibraries.cublas(), cublas_api_h.class, Cublas.OPTIONAL_FUNCTIONS);
            } catch (CudaUnavailableException e) {
                return new Result(false, "CUDA runtime " + versionText(runtime) + " loaded, but cuBLAS did not: "
                        + e.getMessage(), runtime, count, false);
            }
            if (!missing.isEmpty()) {
                return new Result(false, "the cuBLAS library lacks " + String.join(", ", missing)
                        + ", which qlora4j calls; install the cuBLAS of the CUDA runtime in use", runtime, count, false);
            }
            // The emulator exports a symbol NVIDIA's runtime does not have.
            boolean emulated = CudaLibraries.cudart().find(EMULATOR_SYMBOL).isPresent();
            return new Result(true, count + (emulated ? " emulated CUDA device(s) (qlora4j host emulator)" : " CUDA device(s)"),
                    runtime, count, emulated);
        } catch (ExceptionInInitializerError | NoClassDefFoundError e) {
            // What loaded lacks a symbol the probe calls: not a CUDA runtime, e.g. a property
            // naming the wrong file.
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            return new Result(false, "the library loaded as the CUDA runtime lacks a function: " + cause.getMessage(), 0, 0, false);
        }
    }

    /**
     * The functions {@code bindings} ({@link cuda_runtime_h} or {@link cublas_api_h}) binds that
     * {@code library} does not export, but for {@code optional} ones. A binding class holds one
     * nested class per function, named after it, plus its {@code Lib}.
     */
    static List<String> missing(SymbolLookup library, Class<?> bindings, Set<String> optional) {
        return Arrays.stream(bindings.getDeclaredClasses())
                .map(Class::getSimpleName)
                .filter(name -> !name.equals("Lib") && !optional.contains(name))
                .filter(name -> library.find(name).isEmpty())
                .sorted()
                .toList();
    }

    private static String versionText(int version) {
        return version / 1000 + "." + (version % 1000) / 10;
    }
}
