package dev.qlora4j.engine;

import java.lang.foreign.MemorySegment;

/**
 * A block of memory shared by a tensor and its views. Reference-counted: each tensor over it holds
 * one reference, and the block goes back to its allocator when the last one is released. Storage
 * that wraps memory owned elsewhere (a memory-mapped file) is never freed here; its owner's scope
 * guards access.
 */
final class Storage {
    private final Device device;
    private final MemorySegment segment;
    private final Allocator allocator;
    private int references = 1;

    private Storage(Device device, MemorySegment segment, Allocator allocator) {
        this.device = device;
        this.segment = segment;
        this.allocator = allocator;
    }

    /** New storage of {@code bytes} bytes from the device's allocator; contents unspecified. */
    static Storage allocate(Device device, long bytes) {
        Allocator a = Backends.of(device).allocator();
        return new Storage(device, a.allocateSegment(bytes), a);
    }

    /** Storage over memory someone else owns and frees. */
    static Storage wrap(Device device, MemorySegment segment) {
        return new Storage(device, segment, null);
    }

    Device device() {
        return device;
    }

    synchronized boolean isAlive() {
        return references > 0;
    }

    /** The memory. Callers have checked that their tensor is open, which keeps this alive. */
    MemorySegment segment() {
        return segment;
    }

    synchronized void retain() {
        if (references == 0) {
            throw new IllegalStateException("storage of " + segment.byteSize() + " bytes was already freed");
        }
        references++;
    }

    void release() {
        boolean free;
        synchronized (this) {
            if (references == 0) {
                throw new IllegalStateException("storage released more times than retained");
            }
            free = --references == 0;
        }
        if (free && allocator != null) {
            allocator.release(segment.address(), segment.byteSize());
        }
    }
}
