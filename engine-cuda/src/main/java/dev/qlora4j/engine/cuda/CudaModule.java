package dev.qlora4j.engine.cuda;

import dev.qlora4j.cuda.Cuda;
import dev.qlora4j.cuda.cuda_runtime_h;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * A library of kernels loaded from PTX with {@code cudaLibraryLoadData}; the driver compiles the
 * PTX for the device on first load. Every kernel's handle is looked up when the library loads (its
 * {@code .entry} names read from the PTX), so that what loading needs — device memory, the JIT
 * compiler — is asked for when a context starts rather than in the middle of a run. Loaded for
 * the life of the process.
 */
public final class CudaModule {
    private final String name;
    private final MemorySegment library;
    private final Map<String, MemorySegment> kernels = new ConcurrentHashMap<>();

    private CudaModule(String name, MemorySegment library) {
        this.name = name;
        this.library = library;
    }

    /**
     * Loads the PTX that {@code source} opens. The stream is opened by the module that owns the
     * resource (a lambda written there), since the module system lets only that module read it.
     */
    static CudaModule load(CudaContext context, String resource, Supplier<InputStream> source) {
        byte[] ptx;
        try (InputStream in = source.get()) {
            if (in == null) {
                throw new IllegalStateException("CUDA kernels: resource " + resource + " is missing from the build");
            }
            ptx = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("CUDA kernels: reading " + resource, e);
        }
        // cudaLibraryLoadData takes the PTX as a NUL-terminated string; it stays readable for the
        // process, as the runtime may keep referring to it.
        MemorySegment image = Arena.global().allocate(ptx.length + 1L);
        MemorySegment.copy(ptx, 0, image, ValueLayout.JAVA_BYTE, 0, ptx.length);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Cuda.check(context.retryingAfterTrim(() -> cuda_runtime_h.cudaLibraryLoadData(out, image, MemorySegment.NULL,
                    MemorySegment.NULL, 0, MemorySegment.NULL, MemorySegment.NULL, 0),
                    cuda_runtime_h.cudaErrorMemoryAllocation()), "cudaLibraryLoadData(" + resource + ")");
            CudaModule module = new CudaModule(resource, out.get(ValueLayout.ADDRESS, 0));
            for (String entry : entries(new String(ptx, java.nio.charset.StandardCharsets.US_ASCII))) {
                module.kernel(entry);
            }
            return module;
        }
    }

    /** The kernel names a PTX module defines: its {@code .entry} directives. */
    static java.util.List<String> entries(String ptx) {
        java.util.List<String> names = new java.util.ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^\\.visible \\.entry (\\w+)\\(", java.util.regex.Pattern.MULTILINE)
                .matcher(ptx);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    /** The handle of kernel {@code kernel}, to launch with {@link CudaContext#launch}. */
    MemorySegment kernel(String kernel) {
        return kernels.computeIfAbsent(kernel, k -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
                Cuda.check(cuda_runtime_h.cudaLibraryGetKernel(out, library, arena.allocateFrom(k)),
                        "cudaLibraryGetKernel(" + name + ", " + k + ")");
                return out.get(ValueLayout.ADDRESS, 0);
            }
        });
    }

    @Override
    public String toString() {
        return "CudaModule(" + name + ")";
    }
}
