package dev.qlora4j.engine;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Host memory from the C library's {@code aligned_alloc} and {@code free}.
 *
 * <p>Why not an {@code Arena} per tensor: {@code Arena.allocate} zero-fills every block, and closing a
 * shared arena costs a handshake with every thread; a training step makes and frees hundreds of
 * intermediates. Blocks from here are neither zeroed nor scoped, so {@link Storage} guards every
 * access with its own open/closed state.
 */
final class NativeMemory implements RawMemory {
    static final NativeMemory INSTANCE = new NativeMemory();

    private static final MethodHandle ALIGNED_ALLOC;
    private static final MethodHandle FREE;

    static {
        Linker linker = Linker.nativeLinker();
        var libc = linker.defaultLookup();
        ALIGNED_ALLOC = linker.downcallHandle(libc.findOrThrow("aligned_alloc"),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
        FREE = linker.downcallHandle(libc.findOrThrow("free"), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
    }

    private NativeMemory() {
    }

    @Override
    public long allocate(long bytes) {
        MemorySegment p;
        try {
            p = (MemorySegment) ALIGNED_ALLOC.invokeExact((long) Allocator.ALIGNMENT, bytes);
        } catch (Throwable t) {
            throw new AssertionError("aligned_alloc failed to run", t);
        }
        if (p.address() == 0) {
            throw new OutOfMemoryError("aligned_alloc(" + Allocator.ALIGNMENT + ", " + bytes
                    + ") returned NULL: the host is out of native memory");
        }
        return p.address();
    }

    @Override
    public void free(long address) {
        try {
            FREE.invokeExact(MemorySegment.ofAddress(address));
        } catch (Throwable t) {
            throw new AssertionError("free failed to run", t);
        }
    }
}
