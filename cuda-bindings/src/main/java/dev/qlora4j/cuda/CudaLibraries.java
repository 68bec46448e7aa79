package dev.qlora4j.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * Finds and loads the CUDA shared libraries, never through {@code java.library.path} (dlopen
 * ignores it). For a library {@code <name>} ({@code cudart}, {@code cublas}, {@code cublasLt}) the
 * candidates are tried in this order, and the first that loads wins:
 * <ol>
 *   <li>the file named by the system property {@code qlora4j.cuda.<name>};</li>
 *   <li>the file named by the environment variable {@code QLORA4J_CUDA_<NAME>};</li>
 *   <li>{@code $CUDA_HOME/lib64}, {@code /usr/local/cuda/lib64},
 *       {@code /usr/local/cuda/targets/x86_64-linux/lib}, each with every soname in turn;</li>
 *   <li>every bare soname, so the dynamic loader's own search (ld.so.cache, {@code LD_LIBRARY_PATH})
 *       runs.</li>
 * </ol>
 * Sonames are tried newest major first: CUDA 13, then CUDA 12. Every function the bindings use
 * exists with the same signature in CUDA 13 and in CUDA 12 from 12.8 on. A directory is tried with
 * all sonames before the next directory, so a {@code CUDA_HOME} install wins over another version
 * elsewhere.
 *
 * <p>Loading is not enough to win: a runtime must export every function the bindings call (CUDA 12
 * before 12.8 lacks {@code cudaLibraryGetKernel}) and its driver must accept it
 * ({@code cudaGetDeviceCount} succeeds: a CUDA 13 runtime on a driver older than R580 answers
 * "insufficient driver"). The search goes on past a runtime that fails either, so a usable one in
 * another directory is found; when none passes, the first that loaded is kept, so that the probe
 * reports its real error, and {@link #rejected()} says why each other candidate was passed over.
 *
 * <p>Libraries live in {@link Arena#global()}: once loaded they stay for the life of the JVM. The
 * outcome of {@link #cudart()} and {@link #cublas()}, success or failure, is computed once.
 * When nothing loads, {@link CudaUnavailableException} lists every candidate tried, why it failed,
 * and how to point the loader at the library.
 */
public final class CudaLibraries {
    /** The CUDA runtime, newest major first. */
    public static final List<String> CUDART_SONAMES = List.of("libcudart.so.13", "libcudart.so.12");
    /** cuBLASLt, which libcublas needs. */
    public static final List<String> CUBLAS_LT_SONAMES = List.of("libcublasLt.so.13", "libcublasLt.so.12");
    /** cuBLAS. */
    public static final List<String> CUBLAS_SONAMES = List.of("libcublas.so.13", "libcublas.so.12");

    private static final List<String> FIXED_DIRECTORIES =
            List.of("/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib");

    private static final Once CUDART = new Once(() -> open("cudart", CUDART_SONAMES, System::getProperty, System::getenv,
            CudaLibraries::runtimeRejection).lookup());
    private static volatile List<String> rejected = List.of();
    private static final Once CUBLAS = new Once(() -> {
        // libcublas needs libcublasLt. Loading Lt first from our search order means the dynamic
        // loader reuses this copy (it matches DT_NEEDED by soname against loaded objects) instead
        // of pulling a second one from its own search path. A cublas overridden by property or
        // environment should come with a matching cublasLt override.
        load("cublasLt", CUBLAS_LT_SONAMES);
        return open("cublas", CUBLAS_SONAMES, System::getProperty, System::getenv,
                lookup -> missingText(lookup, cublas_api_h.class, Cublas.OPTIONAL_FUNCTIONS)).lookup();
    });

    private CudaLibraries() {
    }

    /**
     * The CUDA runtime (libcudart).
     *
     * @throws CudaUnavailableException when no candidate loads; thrown again on every later call
     */
    public static SymbolLookup cudart() {
        return CUDART.get();
    }

    /**
     * cuBLAS (libcublas), after loading cuBLASLt (libcublasLt) so both come from the same place.
     *
     * @throws CudaUnavailableException when either library does not load; thrown again on every later call
     */
    public static SymbolLookup cublas() {
        return CUBLAS.get();
    }

    /**
     * Loads a library by the search order above, e.g. {@code load("cudart", "libcudart.so.13",
     * "libcudart.so.12")}. Each call searches again; use {@link #cudart()} or {@link #cublas()}
     * for the libraries the bindings use.
     *
     * @param name    the short name in the property and environment variable, e.g. {@code cudart}
     * @param sonames the file names to try, preferred first
     * @throws CudaUnavailableException listing every path tried and why each failed
     */
    public static SymbolLookup load(String name, String... sonames) {
        return load(name, List.of(sonames));
    }

    private static SymbolLookup load(String name, List<String> sonames) {
        return open(name, sonames, System::getProperty, System::getenv).lookup();
    }

    /**
     * The runtimes the search loaded and passed over, each with why: empty when the first one it
     * loaded was usable, or before {@link #cudart()} has run.
     */
    public static List<String> rejected() {
        return rejected;
    }

    /** Why a loaded runtime cannot serve the bindings, or null when it can. */
    private static String runtimeRejection(SymbolLookup lookup) {
        String missing = missingText(lookup, cuda_runtime_h.class, java.util.Set.of());
        if (missing != null) {
            return missing;
        }
        // Called through a handle of its own: the bindings' handles are tied to the runtime finally chosen.
        try (Arena arena = Arena.ofConfined()) {
            java.lang.foreign.MemorySegment count = arena.allocate(java.lang.foreign.ValueLayout.JAVA_INT);
            java.lang.invoke.MethodHandle h = java.lang.foreign.Linker.nativeLinker().downcallHandle(
                    lookup.find("cudaGetDeviceCount").orElseThrow(),
                    java.lang.foreign.FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_INT, java.lang.foreign.ValueLayout.ADDRESS));
            int rc = (int) h.invokeExact(count);
            return rc == 0 ? null : "cudaGetDeviceCount returned " + rc + reason(rc);
        } catch (Throwable e) {
            return "cudaGetDeviceCount failed: " + e;
        }
    }

    /** The name of a code that rules a runtime out; its own cudaGetErrorName is not to be called yet. */
    private static String reason(int rc) {
        return switch (rc) {
            case 3 -> " (cudaErrorInitializationError)";
            case 34 -> " (cudaErrorStubLibrary)";
            case 35 -> " (cudaErrorInsufficientDriver: the driver is older than this runtime)";
            case 36 -> " (cudaErrorCallRequiresNewerDriver)";
            case 100 -> " (cudaErrorNoDevice)";
            default -> "";
        };
    }

    /** "lacks f, g" for the functions {@code bindings} calls that {@code lookup} does not export, or null. */
    private static String missingText(SymbolLookup lookup, Class<?> bindings, java.util.Set<String> optional) {
        List<String> missing = CudaProbe.missing(lookup, bindings, optional);
        return missing.isEmpty() ? null : "lacks " + String.join(", ", missing);
    }

    /** A library that loaded, and the candidate it loaded from. */
    record Loaded(String path, SymbolLookup lookup) {
    }

    /** A place to try, and where it came from, for the error message. */
    record Candidate(String path, String origin) {
    }

    /** {@link #load} with the property and environment lookups passed in, so tests need not set them. */
    static Loaded open(String name, List<String> sonames, UnaryOperator<String> property, UnaryOperator<String> env) {
        return open(name, sonames, property, env, lookup -> null);
    }

    /**
     * {@link #open(String, List, UnaryOperator, UnaryOperator)}, going on past a library that loads but
     * that {@code rejection} finds unusable (it returns why, or null to accept); when none is
     * accepted, the first that loaded.
     */
    static Loaded open(String name, List<String> sonames, UnaryOperator<String> property, UnaryOperator<String> env,
                       java.util.function.Function<SymbolLookup, String> rejection) {
        if (sonames.isEmpty()) {
            throw new IllegalArgumentException("no soname given for " + name);
        }
        List<String> tried = new ArrayList<>();
        List<String> passedOver = new ArrayList<>();
        Loaded firstLoaded = null;
        java.util.Set<String> seen = new java.util.HashSet<>();
        java.util.Set<String> loadedNames = new java.util.HashSet<>();
        for (Candidate c : candidates(name, sonames, property, env)) {
            boolean isPath = c.path().contains("/");
            if (isPath && !Files.exists(Path.of(c.path()))) {
                tried.add(c.path() + " (" + c.origin() + ": no such file)");
                continue;
            }
            // The same file reached twice (a linked directory, or the loader finding a soname already
            // tried by path) is tried once.
            if (!seen.add(isPath ? realPath(c.path()) : c.path()) || !isPath && loadedNames.contains(c.path())) {
                continue;
            }
            SymbolLookup lookup;
            try {
                lookup = isPath
                        ? SymbolLookup.libraryLookup(Path.of(c.path()), Arena.global())
                        : SymbolLookup.libraryLookup(c.path(), Arena.global());
            } catch (IllegalArgumentException e) {
                tried.add(c.path() + " (" + c.origin() + ": " + e.getMessage() + ")");
                continue;
            }
            loadedNames.add(Path.of(c.path()).getFileName().toString());
            String why = rejection.apply(lookup);
            if (why == null) {
                if (name.equals("cudart")) {
                    rejected = List.copyOf(passedOver);
                }
                return new Loaded(c.path(), lookup);
            }
            passedOver.add(c.path() + " (" + why + ")");
            if (firstLoaded == null) {
                firstLoaded = new Loaded(c.path(), lookup);
            }
        }
        if (firstLoaded != null) {
            if (name.equals("cudart")) {
                rejected = List.copyOf(passedOver);
            }
            return firstLoaded;
        }
        throw new CudaUnavailableException(String.join(" or ", sonames) + " could not be loaded; tried: "
                + String.join(", ", tried) + ". Set -D" + propertyName(name) + "=/path/to/" + sonames.getFirst()
                + ", the environment variable " + envName(name) + ", or CUDA_HOME to the CUDA installation");
    }

    private static String realPath(String path) {
        try {
            return Path.of(path).toRealPath().toString();
        } catch (java.io.IOException e) {
            return Path.of(path).toAbsolutePath().normalize().toString();
        }
    }

    /** Every place {@link #open} tries, in order; blank settings count as unset. */
    static List<Candidate> candidates(String name, List<String> sonames, UnaryOperator<String> property,
                                      UnaryOperator<String> env) {
        List<Candidate> c = new ArrayList<>();
        String prop = property.apply(propertyName(name));
        if (prop != null && !prop.isBlank()) {
            c.add(new Candidate(prop, "-D" + propertyName(name)));
        }
        String fromEnv = env.apply(envName(name));
        if (fromEnv != null && !fromEnv.isBlank()) {
            c.add(new Candidate(fromEnv, envName(name)));
        }
        List<Candidate> directories = new ArrayList<>();
        String home = env.apply("CUDA_HOME");
        if (home != null && !home.isBlank()) {
            directories.add(new Candidate(home + "/lib64", "CUDA_HOME"));
        }
        for (String dir : FIXED_DIRECTORIES) {
            directories.add(new Candidate(dir, "standard location"));
        }
        for (Candidate dir : directories) {
            for (String soname : sonames) {
                c.add(new Candidate(dir.path() + "/" + soname, dir.origin()));
            }
        }
        for (String soname : sonames) {
            c.add(new Candidate(soname, "dynamic loader search"));
        }
        return c;
    }

    static String propertyName(String name) {
        return "qlora4j.cuda." + name;
    }

    static String envName(String name) {
        return "QLORA4J_CUDA_" + name.toUpperCase(Locale.ROOT);
    }

    /** A load attempted once: later calls return the same library or throw the same failure again. */
    private static final class Once {
        private final Supplier<SymbolLookup> loader;
        private SymbolLookup lookup;
        private CudaUnavailableException failure;

        Once(Supplier<SymbolLookup> loader) {
            this.loader = loader;
        }

        synchronized SymbolLookup get() {
            if (lookup == null && failure == null) {
                try {
                    lookup = loader.get();
                } catch (CudaUnavailableException e) {
                    failure = e;
                }
            }
            if (failure != null) {
                // A fresh exception per call, so each caller's stack trace is its own; the first
                // attempt's is kept as the cause.
                throw new CudaUnavailableException(failure.getMessage(), failure);
            }
            return lookup;
        }
    }
}
