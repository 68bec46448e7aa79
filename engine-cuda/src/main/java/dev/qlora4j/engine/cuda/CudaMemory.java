package dev.qlora4j.engine.cuda;

import dev.qlora4j.cuda.cuda_runtime_h;
import dev.qlora4j.engine.RawMemory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Device memory from {@code cudaMalloc} and {@code cudaFree}, the raw source under a device's
 * caching {@link dev.qlora4j.engine.Allocator}: the allocator's pool makes these calls rare, which
 * matters because {@code cudaFree} waits for the whole device.
 */
final class CudaMemory implements RawMemory {
    private final CudaContext context;

    CudaMemory(CudaContext context) {
        this.context = context;
    }

    @Override
    public long allocate(long bytes) {
        context.activate();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            int rc = cuda_runtime_h.cudaMalloc(out, bytes);
            if (rc == cuda_runtime_h.cudaErrorMemoryAllocation()) {
                // Reported as the JVM reports host exhaustion, so the allocator can trim its pool and retry.
                cuda_runtime_h.cudaGetLastError();
                throw new OutOfMemoryError("cudaMalloc(" + bytes + ") on " + context.device()
                        + ": the device is out of memory");
            }
            CudaContext.check(rc, "cudaMalloc", context.device());
            return out.get(ValueLayout.ADDRESS, 0).address();
        }
    }

    @Override
    public void free(long address) {
        context.activate();
        CudaContext.check(cuda_runtime_h.cudaFree(MemorySegment.ofAddress(address)), "cudaFree", context.device());
    }
}
