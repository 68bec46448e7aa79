package dev.qlora4j.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds and loads the CUDA shared libraries. Order for a library such as libcudart: the path in
 * the system property {@code qlora4j.cuda.<name>} (e.g. {@code qlora4j.cuda.cudart}), then the
 * environment variable {@code QLORA4J_CUDA_<NAME>}, then {@code $CUDA_HOME/lib64},
 * {@code /usr/local/cuda/lib64} and {@code /usr/local/cuda/targets/x86_64-linux/lib}, then the bare
 * soname so the dynamic loader's own search runs. Loaded libraries stay for the life of the JVM.
 */
public final class CudaLibraries {
    private CudaLibraries() {
    }

    /**
     * Loads a library, e.g. {@code load("cudart", "libcudart.so.13")}.
     *
     * @throws CudaUnavailableException listing every path tried and why each failed
     */
    public static SymbolLookup load(String name, String soname) {
        List<String> tried = new ArrayList<>();
        for (String candidate : candidates(name, soname)) {
            try {
                if (candidate.contains("/") && !Files.exists(Path.of(candidate))) {
                    tried.add(candidate + " (no such file)");
                    continue;
                }
                return candidate.contains("/")
                        ? SymbolLookup.libraryLookup(Path.of(candidate), Arena.global())
                        : SymbolLookup.libraryLookup(candidate, Arena.global());
            } catch (IllegalArgumentException | IllegalCallerException e) {
                tried.add(candidate + " (" + e.getMessage() + ")");
            }
        }
        throw new CudaUnavailableException(soname + " could not be loaded; tried: " + String.join(", ", tried)
                + ". Set -Dqlora4j.cuda." + name + "=/path/to/" + soname + " or CUDA_HOME");
    }

    private static List<String> candidates(String name, String soname) {
        List<String> c = new ArrayList<>();
        String prop = System.getProperty("qlora4j.cuda." + name);
        if (prop != null && !prop.isBlank()) {
            c.add(prop);
        }
        String env = System.getenv("QLORA4J_CUDA_" + name.toUpperCase(java.util.Locale.ROOT));
        if (env != null && !env.isBlank()) {
            c.add(env);
        }
        String home = System.getenv("CUDA_HOME");
        if (home != null && !home.isBlank()) {
            c.add(home + "/lib64/" + soname);
        }
        c.add("/usr/local/cuda/lib64/" + soname);
        c.add("/usr/local/cuda/targets/x86_64-linux/lib/" + soname);
        c.add(soname);
        return c;
    }
}
