package dev.qlora4j.engine.cuda;

import dev.qlora4j.cuda.Cublas;
import dev.qlora4j.cuda.Cuda;
import dev.qlora4j.cuda.CudaException;
import dev.qlora4j.cuda.CudaProbe;
import dev.qlora4j.cuda.CudaUnavailableException;
import dev.qlora4j.cuda.cublas_api_h;
import dev.qlora4j.cuda.cuda_runtime_h;
import dev.qlora4j.engine.Allocator;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.DeviceConstants;
import dev.qlora4j.engine.Tensor;

import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * One CUDA device as the engine uses it: a non-blocking stream that every kernel, copy and cuBLAS
 * call of the device is ordered on, a cuBLAS handle bound to that stream, a caching allocator, and
 * the kernel libraries loaded so far. Created on first use and kept for the life of the process.
 *
 * <p>One stream per device is what makes the caching allocator safe without events: a block freed
 * by the host while a kernel still reads it can only be reused by work queued after that kernel.
 * Thread-safe; CUDA's "current device" is per thread, so each entry point calls {@link #activate}.
 */
public final class CudaContext {
    private static final Map<Integer, CudaContext> CONTEXTS = new ConcurrentHashMap<>();
    /** Threads per block of every launch: the kernels' contract (cuda-kernel spec). */
    static final int BLOCK = 256;
    /** The largest grid the launches use; grid-stride kernels cover any amount of work with it. */
    static final int MAX_GRID = 65535;
    /** A null pointer argument of {@link #launch}: an array a kernel is told is absent. */
    public static final Object NULL_POINTER = KernelArguments.Pointer.NULL;

    /**
     * Kernel faults (driver_types.h: illegal address, launch timeout, device assert, stack error,
     * illegal instruction, misaligned address, invalid address space, invalid PC, launch failure):
     * raised by a kernel while it runs, reported by whichever CUDA call on the device comes next,
     * and sticky — the context is unusable from then on.
     */
    private static final Set<Integer> KERNEL_FAULTS = Set.of(700, 702, 710, 714, 715, 716, 717, 718, 719);

    private final Device device;
    private final MemorySegment stream;
    private final MemorySegment cublas;
    private final Allocator allocator;
    private final Map<String, CudaModule> modules = new ConcurrentHashMap<>();
    private final DeviceConstants constants;

    private CudaContext(Device device) {
        this.device = device;
        activate();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Cuda.check(cuda_runtime_h.cudaStreamCreateWithFlags(out, cuda_runtime_h.cudaStreamNonBlocking()),
                    "cudaStreamCreateWithFlags");
            stream = out.get(ValueLayout.ADDRESS, 0);
            Cublas.check(cublas_api_h.cublasCreate_v2(out), "cublasCreate_v2");
            cublas = out.get(ValueLayout.ADDRESS, 0);
        }
        Cublas.check(cublas_api_h.cublasSetStream_v2(cublas, stream), "cublasSetStream_v2");
        // Default math with CUBLAS_COMPUTE_32F keeps F32 GEMMs in full FP32 (no TF32), so they match
        // the CPU to rounding; BF16 inputs use the tensor cores with FP32 accumulation.
        Cublas.check(cublas_api_h.cublasSetMathMode(cublas, cublas_api_h.CUBLAS_DEFAULT_MATH()), "cublasSetMathMode");
        allocator = new Allocator(device, new CudaMemory(this),
                Long.getLong("qlora4j.cuda.pool.maxCachedBytes", Long.MAX_VALUE));
        constants = DeviceConstants.keptOn(device);
    }

    /**
     * The context of a CUDA device, created on first use.
     *
     * @throws CudaUnavailableException saying why when CUDA cannot be used in this process
     * @throws IllegalArgumentException when the ordinal is not a present device
     */
    public static CudaContext of(Device device) {
        if (device.kind() != Device.Kind.CUDA) {
            throw new IllegalArgumentException("CudaContext.of(" + device + "): not a CUDA device");
        }
        CudaProbe.Result probe = CudaProbe.run();
        if (!probe.usable()) {
            throw new CudaUnavailableException("device " + device + " is not usable: " + probe.detail());
        }
        if (device.index() >= probe.deviceCount()) {
            throw new IllegalArgumentException("device " + device + ": only " + probe.deviceCount()
                    + " CUDA device(s) present (cuda:0 to cuda:" + (probe.deviceCount() - 1) + ")");
        }
        return CONTEXTS.computeIfAbsent(device.index(), i -> new CudaContext(device));
    }

    /** The CUDA device this context drives. */
    public Device device() {
        return device;
    }

    /** The device's caching allocator: live and peak bytes of device memory. */
    public Allocator allocator() {
        return allocator;
    }

    /** The rotary tables and code books kept on this device, freed with it. */
    public DeviceConstants constants() {
        return constants;
    }

    /** The stream every operation on this device is queued on. */
    public MemorySegment stream() {
        return stream;
    }

    /** This device's backend. */
    public CudaBackend backend() {
        return CudaBackend.of(device);
    }

    MemorySegment cublas() {
        return cublas;
    }

    /** The address of t's first element, for a CUDA call (device memory, or host memory in a copy). */
    static long address(Tensor t) {
        return t.segment().address() + t.byteOffset();
    }

    /** Makes this device current on the calling thread. */
    public void activate() {
        check(cuda_runtime_h.cudaSetDevice(device.index()), "cudaSetDevice", device);
    }

    /**
     * Runs a CUDA or cuBLAS call that may allocate device memory outside the pool (cuBLAS workspace,
     * a kernel library's code); when it reports {@code outOfMemory}, gives the pool's cached blocks
     * back to the device and tries once more. The pool keeps every freed block, so without this a
     * long run could fail although its tensors leave room.
     *
     * @return the call's status, from the second try when there was one
     */
    public int retryingAfterTrim(java.util.function.IntSupplier call, int outOfMemory) {
        int rc = call.getAsInt();
        if (rc == outOfMemory && allocator.stats().cached() > 0) {
            allocator.trimCache();
            rc = call.getAsInt();
        }
        return rc;
    }

    /** Free bytes of device memory, from {@code cudaMemGetInfo} (memory this process's pool holds counts as used). */
    public long freeMemory() {
        activate();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment free = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment total = arena.allocate(ValueLayout.JAVA_LONG);
            check(cuda_runtime_h.cudaMemGetInfo(free, total), "cudaMemGetInfo", device);
            return free.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    /** Waits until all queued work on the device's stream has finished; surfaces asynchronous kernel errors. */
    public void synchronize() {
        activate();
        check(cuda_runtime_h.cudaStreamSynchronize(stream), "cudaStreamSynchronize", device);
    }

    /**
     * {@link Cuda#check}, except that a kernel fault says what it is: work queued earlier failed
     * while it ran, and {@code function} is only the call that reported it — the message would
     * otherwise blame, say, the next copy or a {@code cudaFree}.
     */
    static void check(int rc, String function, Device device) {
        if (KERNEL_FAULTS.contains(rc)) {
            throw new CudaException(function + " on " + device + " (reporting a kernel, copy or GEMM queued earlier that"
                    + " failed as it ran, not necessarily this call; the device stays unusable in this process; rerun with"
                    + " CUDA_LAUNCH_BLOCKING=1 to have the failing launch report it)", rc, Cuda.errorName(rc), Cuda.errorString(rc));
        }
        Cuda.check(rc, function);
    }

    /**
     * The kernel library of PTX resource {@code resource}, loaded once: from the fatbin that
     * {@code fatbin} opens (built beside the PTX by cuda/ptx/build-ptx.sh; null for none), or, when the
     * driver refuses it, from the PTX that {@code ptx} opens. E.g. {@code module("dev/qlora4j/nf4/cuda/dequant.ptx",
     * () -> Mine.class.getResourceAsStream("cuda/dequant.ptx"), () -> Mine.class.getResourceAsStream("cuda/dequant.fatbin"))}.
     * The streams are opened by the module that owns the resources, which only it may read.
     */
    public CudaModule module(String resource, Supplier<InputStream> ptx, Supplier<InputStream> fatbin) {
        return modules.computeIfAbsent(resource, k -> {
            activate();
            return CudaModule.load(this, resource, ptx, fatbin);
        });
    }

    /**
     * Launches a grid-stride kernel over {@code work} units: 256 threads per block and as many
     * blocks as cover the work, at most {@value #MAX_GRID}.
     */
    public void launch(CudaModule module, String kernel, long work, Object... args) {
        if (work > 0) {
            launchBlocks(module, kernel, Math.min((work + BLOCK - 1) / BLOCK, MAX_GRID), args);
        }
    }

    /** Launches a row kernel: one block of 256 threads per row, at most {@value #MAX_GRID} blocks striding over rows. */
    public void launchRows(CudaModule module, String kernel, long rows, Object... args) {
        if (rows > 0) {
            launchBlocks(module, kernel, Math.min(rows, MAX_GRID), args);
        }
    }

    private void launchBlocks(CudaModule module, String kernel, long blocks, Object... args) {
        activate();
        MemorySegment function = module.kernel(kernel);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment grid = cuda_runtime_h.dim3(arena, (int) blocks, 1, 1);
            MemorySegment block = cuda_runtime_h.dim3(arena, BLOCK, 1, 1);
            check(cuda_runtime_h.cudaLaunchKernel(function, grid, block, KernelArguments.build(arena, this, args),
                    0L, stream), "cudaLaunchKernel(" + kernel + ")", device);
        }
    }

    /**
     * Copies {@code bytes} bytes between host and device memory (either direction, or device to
     * device), ordered on the stream; returns when the destination holds them if it is host memory.
     */
    public void copy(long dst, long src, long bytes, boolean toHost) {
        if (bytes == 0) {
            return;
        }
        activate();
        check(cuda_runtime_h.cudaMemcpyAsync(MemorySegment.ofAddress(dst), MemorySegment.ofAddress(src), bytes,
                cuda_runtime_h.cudaMemcpyDefault(), stream), "cudaMemcpyAsync", device);
        if (toHost) {
            synchronize();
        }
    }

    /** Sets {@code bytes} bytes of device memory at {@code address} to zero, ordered on the stream. */
    public void zero(long address, long bytes) {
        if (bytes > 0) {
            activate();
            check(cuda_runtime_h.cudaMemsetAsync(MemorySegment.ofAddress(address), 0, bytes, stream), "cudaMemsetAsync", device);
        }
    }
}
