package dev.qlora4j.engine.cuda;

import dev.qlora4j.cuda.CudaException;
import java.util.List;
import java.nio.charset.StandardCharsets;
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
 * A library of kernels loaded with {@code cudaLibraryLoadData}: the fatbin built beside the PTX
 * (machine code for sm_80, sm_90 and sm_100, and compute_80 PTX), so that no JIT compiler is needed
 * and no JIT time is paid; when the driver refuses it, the PTX, which the driver compiles. Every kernel's handle is looked up when the library loads (its
 * {@code .entry} names read from the PTX), so that what loading needs — device memory, the JIT
 * compiler — is asked for when a context starts rather than in the middle of a run. Loaded for
 * the life of the process.
 */
public final class CudaModule {
    private final String name;
    private final MemorySegment library;
    private final Map<String, MemorySegment> kernels = new ConcurrentHashMap<>();
    private final String format;

    private CudaModule(String name, MemorySegment library, String format) {
        this.name = name;
        this.library = library;
        this.format = format;
    }

    /**
     * Loads the PTX that {@code source} opens. The stream is opened by the module that owns the
     * resource (a lambda written there), since the module system lets only that module read it.
     */
    static CudaModule load(CudaContext context, String resource, Supplier<InputStream> ptxSource,
                           Supplier<InputStream> fatbinSource) {
        byte[] ptx = read(resource, ptxSource);
        List<String> entries = entries(new String(ptx, StandardCharsets.US_ASCII));
        String fatbinName = resource.replaceFirst("\\.ptx$", ".fatbin");
        byte[] fatbin = fatbinSource == null ? null : read(fatbinName, fatbinSource);
        if (fatbin != null) {
            try {
                return load(context, fatbinName, fatbin, entries, "fatbin");
            } catch (CudaException e) {
                // A driver too old for the machine code (or a runtime that reads PTX only, as the host
                // emulator does): the PTX, whose ISA stamp CUDA 12 drivers accept, is the fallback.
                // The failure is the runtime's last error now; taken so that nothing later blames it.
                cuda_runtime_h.cudaGetLastError();
            }
        }
        return load(context, resource, ptx, entries, "ptx");
    }

    private static CudaModule load(CudaContext context, String resource, byte[] code, List<String> entries, String format) {
        // cudaLibraryLoadData reads PTX as a NUL-terminated string and a fatbin by its header; the image
        // stays readable for the process, as the runtime may keep referring to it.
        MemorySegment image = Arena.global().allocate(code.length + 1L, 16);
        MemorySegment.copy(code, 0, image, ValueLayout.JAVA_BYTE, 0, code.length);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Cuda.check(context.retryingAfterTrim(() -> cuda_runtime_h.cudaLibraryLoadData(out, image, MemorySegment.NULL,
                    MemorySegment.NULL, 0, MemorySegment.NULL, MemorySegment.NULL, 0),
                    cuda_runtime_h.cudaErrorMemoryAllocation()), "cudaLibraryLoadData(" + resource + ")");
            CudaModule module = new CudaModule(resource, out.get(ValueLayout.ADDRESS, 0), format);
            for (String entry : entries) {
                module.kernel(entry);
            }
            return module;
        }
    }

    private static byte[] read(String resource, Supplier<InputStream> source) {
        try (InputStream in = source.get()) {
            if (in == null) {
                throw new IllegalStateException("CUDA kernels: resource " + resource + " is missing from the build");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("CUDA kernels: reading " + resource, e);
        }
    }

    /** What the driver loaded: "fatbin" (machine code for the device) or "ptx" (compiled by the driver). */
    public String format() {
        return format;
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
        return "CudaModule(" + name + ", " + format + ")";
    }
}
