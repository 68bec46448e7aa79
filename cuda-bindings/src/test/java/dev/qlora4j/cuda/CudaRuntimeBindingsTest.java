package dev.qlora4j.cuda;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * cuda_runtime_h against the installed CUDA: every descriptor matches the header's prototype, every
 * symbol resolves, every wrapper's Java signature matches its handle, every constant matches the
 * header's value. Skipped, saying why, where the header or the library is absent.
 */
class CudaRuntimeBindingsTest {
    private static final JextractShape BINDINGS = new JextractShape(cuda_runtime_h.class);

    private static CHeader header() {
        Optional<Path> dir = CHeader.find("cuda_runtime_api.h");
        assumeTrue(dir.isPresent(), "no cuda_runtime_api.h in $CUDA_HOME/include or /usr/local/cuda/include: prototypes not checked");
        return CHeader.read(dir.get().resolve("cuda_runtime_api.h"), dir.get().resolve("driver_types.h"));
    }

    private static void assertNone(List<String> problems) {
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void everyFunctionTheBackendNeedsIsBound() {
        assertEquals(Set.of("cudaRuntimeGetVersion", "cudaDriverGetVersion", "cudaGetDeviceCount", "cudaSetDevice",
                "cudaGetDevice", "cudaDeviceGetAttribute", "cudaDeviceSynchronize", "cudaMemGetInfo", "cudaMalloc",
                "cudaFree", "cudaMallocAsync", "cudaFreeAsync", "cudaMallocHost", "cudaFreeHost", "cudaMemcpy",
                "cudaMemcpyAsync", "cudaMemset", "cudaMemsetAsync", "cudaStreamCreateWithFlags", "cudaStreamDestroy",
                "cudaStreamSynchronize", "cudaEventCreate", "cudaEventCreateWithFlags", "cudaEventRecord",
                "cudaEventSynchronize", "cudaEventElapsedTime", "cudaEventDestroy", "cudaLibraryLoadData",
                "cudaLibraryUnload", "cudaLibraryGetKernel", "cudaLaunchKernel", "cudaGetLastError",
                "cudaPeekAtLastError", "cudaGetErrorName", "cudaGetErrorString"), BINDINGS.functions());
    }

    @Test
    void everyDescriptorMatchesTheHeadersPrototype() {
        CHeader h = header();
        assumeTrue(CudaTestSupport.runtimeLoads(), "the header is here but libcudart is not: descriptors live with the handles");
        assertNone(BINDINGS.descriptorMismatches(h));
    }

    @Test
    void theHeaderReaderSeesDecoratedAndMultiLinePrototypes() {
        CHeader h = header();
        // __dv(0) default argument and __cudart_builtin__; declared twice (the per-thread-stream block).
        List<FunctionDescriptor> memcpyAsync = h.prototypes("cudaMemcpyAsync");
        assertFalse(memcpyAsync.isEmpty());
        assertEquals("int4(pointer8, pointer8, long8, int4, pointer8)", CHeader.shape(memcpyAsync.getFirst()));
        // Split over three lines.
        assertEquals("int4(pointer8, pointer8, pointer8, pointer8, int4, pointer8, pointer8, int4)",
                CHeader.shape(h.prototypes("cudaLibraryLoadData").getFirst()));
        // dim3 by value.
        assertEquals("int4(pointer8, struct{int4, int4, int4}, struct{int4, int4, int4}, pointer8, long8, pointer8)",
                CHeader.shape(h.prototypes("cudaLaunchKernel").getFirst()));
        assertEquals("pointer8(int4)", CHeader.shape(h.prototypes("cudaGetErrorName").getFirst()));
        assertEquals("int4()", CHeader.shape(h.prototypes("cudaDeviceSynchronize").getFirst()));
    }

    @Test
    void everyConstantMatchesTheHeader() {
        assertNone(BINDINGS.constantMismatches(header(), BINDINGS.constants()));
    }

    @Test
    void everySymbolResolvesInTheInstalledRuntime() {
        assumeTrue(CudaTestSupport.runtimeLoads(), "libcudart not installed here: symbols not checked");
        assertNone(BINDINGS.unresolvedSymbols());
    }

    @Test
    void everyWrappersJavaSignatureMatchesItsHandle() {
        assumeTrue(CudaTestSupport.runtimeLoads(), "libcudart not installed here: handles cannot be made");
        assertNone(BINDINGS.wrapperMismatches());
    }

    @Test
    void dim3IsTwelveBytesOfXYZ() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment d = cuda_runtime_h.dim3(arena, 7, 8, 9);
            assertEquals(12, cuda_runtime_h.DIM3.byteSize());
            assertEquals(12, d.byteSize());
            assertEquals(List.of(7, 8, 9), List.of(d.get(ValueLayout.JAVA_INT, 0), d.get(ValueLayout.JAVA_INT, 4),
                    d.get(ValueLayout.JAVA_INT, 8)));
        }
    }

    @Test
    void withoutADriverCallsReturnTheErrorInsteadOfCrashing() {
        assumeTrue(CudaTestSupport.runtimeLoads(), "libcudart not installed here");
        assumeTrue(!CudaProbe.run().usable(), "a usable GPU is present");
        // Exercises the by-value dim3 and the critical calls through real downcalls. The runtime fails
        // its initialisation before looking at any pointer, so NULLs are safe here.
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment one = cuda_runtime_h.dim3(arena, 1, 1, 1);
            int launch = cuda_runtime_h.cudaLaunchKernel(MemorySegment.NULL, one, one, MemorySegment.NULL, 0,
                    MemorySegment.NULL);
            assertTrue(launch != cuda_runtime_h.cudaSuccess(), "launch without a driver: " + launch);
            int malloc = cuda_runtime_h.cudaMalloc(arena.allocate(ValueLayout.ADDRESS), 16);
            assertEquals(launch, malloc, "the same initialisation error for every call");
            assertEquals(malloc, cuda_runtime_h.cudaPeekAtLastError());
            String name = cuda_runtime_h.string(cuda_runtime_h.cudaGetErrorName(malloc));
            assertTrue(Set.of("cudaErrorInsufficientDriver", "cudaErrorNoDevice").contains(name), name);
        }
    }
}
