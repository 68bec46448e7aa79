package dev.qlora4j.cuda;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
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
    private static final Set<String> FUNCTIONS = CHeader.boundFunctions(cuda_runtime_h.class);

    private static Object call(String method) {
        try {
            return cuda_runtime_h.class.getMethod(method).invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(method + ": " + e.getCause(), e.getCause());
        }
    }

    private static CHeader header() {
        Optional<Path> dir = CHeader.find("cuda_runtime_api.h");
        assumeTrue(dir.isPresent(), "no cuda_runtime_api.h in $CUDA_HOME/include or /usr/local/cuda/include: prototypes not checked");
        return CHeader.read(dir.get().resolve("cuda_runtime_api.h"), dir.get().resolve("driver_types.h"));
    }

    @Test
    void everyFunctionTheBriefAsksForIsBound() {
        assertEquals(Set.of("cudaRuntimeGetVersion", "cudaDriverGetVersion", "cudaGetDeviceCount", "cudaSetDevice",
                "cudaGetDevice", "cudaDeviceGetAttribute", "cudaDeviceSynchronize", "cudaMemGetInfo", "cudaMalloc",
                "cudaFree", "cudaMallocAsync", "cudaFreeAsync", "cudaMallocHost", "cudaFreeHost", "cudaMemcpy",
                "cudaMemcpyAsync", "cudaMemset", "cudaMemsetAsync", "cudaStreamCreateWithFlags", "cudaStreamDestroy",
                "cudaStreamSynchronize", "cudaEventCreate", "cudaEventCreateWithFlags", "cudaEventRecord",
                "cudaEventSynchronize", "cudaEventElapsedTime", "cudaEventDestroy", "cudaLibraryLoadData",
                "cudaLibraryUnload", "cudaLibraryGetKernel", "cudaLaunchKernel", "cudaGetLastError",
                "cudaPeekAtLastError", "cudaGetErrorName", "cudaGetErrorString"), FUNCTIONS);
    }

    @Test
    void everyDescriptorMatchesTheHeadersPrototype() {
        CHeader h = header();
        assumeTrue(CudaTestSupport.runtimeLoads(), "the header is here but libcudart is not: descriptors live with the handles");
        List<String> mismatches = new ArrayList<>();
        for (String fn : FUNCTIONS) {
            List<FunctionDescriptor> declared = h.prototypes(fn);
            if (declared.isEmpty()) {
                mismatches.add(fn + ": not declared in the header");
                continue;
            }
            String bound = CHeader.shape((FunctionDescriptor) call(fn + "$descriptor"));
            for (FunctionDescriptor d : declared) {
                if (!CHeader.shape(d).equals(bound)) {
                    mismatches.add(fn + ": header " + CHeader.shape(d) + ", bound " + bound);
                }
            }
        }
        assertTrue(mismatches.isEmpty(), String.join("\n", mismatches));
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
        CHeader h = header();
        List<String> wrong = new ArrayList<>();
        for (String name : CHeader.constants(cuda_runtime_h.class)) {
            Optional<Long> value = h.constant(name);
            int bound = (int) call(name);
            if (value.isEmpty()) {
                wrong.add(name + ": not in the header");
            } else if (value.get() != bound) {
                wrong.add(name + ": header " + value.get() + ", bound " + bound);
            }
        }
        assertTrue(wrong.isEmpty(), String.join("\n", wrong));
    }

    @Test
    void everySymbolResolvesInTheInstalledRuntime() {
        assumeTrue(CudaTestSupport.runtimeLoads(), "libcudart not installed here: symbols not checked");
        List<String> missing = new ArrayList<>();
        for (String fn : FUNCTIONS) {
            try {
                MemorySegment address = (MemorySegment) call(fn + "$address");
                if (address.address() == 0) {
                    missing.add(fn + ": null address");
                }
            } catch (AssertionError e) {
                missing.add(fn + ": " + e.getMessage());
            }
        }
        assertTrue(missing.isEmpty(), String.join("\n", missing));
    }

    @Test
    void everyWrappersJavaSignatureMatchesItsHandle() {
        assumeTrue(CudaTestSupport.runtimeLoads(), "libcudart not installed here: handles cannot be made");
        for (String fn : FUNCTIONS) {
            MethodHandle handle = (MethodHandle) call(fn + "$handle");
            Method wrapper = Arrays.stream(cuda_runtime_h.class.getMethods()).filter(m -> m.getName().equals(fn))
                    .findFirst().orElseThrow(() -> new AssertionError(fn + ": no wrapper"));
            // invokeExact in the wrapper throws WrongMethodTypeException unless these agree exactly.
            assertEquals(handle.type(), MethodType.methodType(wrapper.getReturnType(), wrapper.getParameterTypes()), fn);
        }
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
            MemorySegment ptr = arena.allocate(ValueLayout.ADDRESS);
            int malloc = cuda_runtime_h.cudaMalloc(ptr, 16);
            assertEquals(launch, malloc, "the same initialisation error for every call");
            assertEquals(malloc, cuda_runtime_h.cudaPeekAtLastError());
            String name = cuda_runtime_h.string(cuda_runtime_h.cudaGetErrorName(malloc));
            assertTrue(Set.of("cudaErrorInsufficientDriver", "cudaErrorNoDevice").contains(name), name);
        }
    }
}
