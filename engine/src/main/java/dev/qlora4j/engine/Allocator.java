package dev.qlora4j.engine;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Hands out 64-byte-aligned blocks for one device, counts live and peak bytes, and keeps freed
 * blocks in a pool of size classes so that a training loop, which frees and re-allocates the same
 * activation sizes every step, pays neither malloc nor zero-fill after its first step.
 *
 * <p>Sizes are rounded up to a size class: multiples of 64 bytes up to 4 KiB, then 8 classes per
 * power of two (at most 12.5% slack). {@link MemoryStats#live()} counts rounded block sizes. The pool
 * keeps at most {@code qlora4j.pool.maxCachedBytes} bytes (default 2 GiB); {@link #trimCache()}
 * returns them all to the system. Thread-safe.
 */
public final class Allocator {
    /** Alignment of every block, in bytes: a cache line, and the widest vector register. */
    public static final int ALIGNMENT = 64;

    private static final Allocator CPU = new Allocator(Device.CPU, NativeMemory.INSTANCE,
            Long.getLong("qlora4j.pool.maxCachedBytes", 2L << 30));

    private final Device device;
    private final RawMemory raw;
    private final long maxCachedBytes;
    private final Map<Long, ArrayDeque<Long>> freeBlocks = new HashMap<>();
    private long live;
    private long peak;
    private long cached;

    /**
     * An allocator for {@code device} that takes its blocks from {@code raw} and pools at most
     * {@code maxCachedBytes} bytes of freed blocks.
     */
    public Allocator(Device device, RawMemory raw, long maxCachedBytes) {
        this.device = device;
        this.raw = raw;
        this.maxCachedBytes = maxCachedBytes;
    }

    /** The host allocator. */
    public static Allocator cpu() {
        return CPU;
    }

    /** The device whose memory this allocator hands out. */
    public Device device() {
        return device;
    }

    /**
     * The block size a request of {@code bytes} occupies, which {@link MemoryStats#live()} counts: what a
     * memory plan adds up for each tensor it expects.
     */
    public static long sizeClass(long bytes) {
        if (bytes <= 4096) {
            return Math.max(ALIGNMENT, (bytes + ALIGNMENT - 1) & -ALIGNMENT);
        }
        long step = Long.highestOneBit(bytes - 1) >>> 3;
        return (bytes + step - 1) / step * step;
    }

    /**
     * A block of at least {@code bytes} bytes, reused from the pool when one of its size class is
     * free. Contents are unspecified.
     *
     * @return the block's address; give it back with {@link #release(long, long)} and the same size
     */
    long allocate(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("allocate: " + bytes + " bytes requested, expected >= 0");
        }
        long block = sizeClass(bytes);
        Long reused = null;
        synchronized (this) {
            ArrayDeque<Long> q = freeBlocks.get(block);
            if (q != null && !q.isEmpty()) {
                reused = q.pop();
                cached -= block;
            }
            live += block;
            peak = Math.max(peak, live);
        }
        if (reused != null) {
            return reused;
        }
        try {
            return raw.allocate(block);
        } catch (OutOfMemoryError e) {
            boolean hadCache;
            synchronized (this) {
                live -= block;
                hadCache = cached > 0;
            }
            if (!hadCache) {
                throw e;
            }
            // Pooled blocks of other sizes may be what stands in the way: give them back and retry.
            trimCache();
            return allocate(bytes);
        }
    }

    /** Returns a block to the pool (or to the system when the pool is full). */
    void release(long address, long bytes) {
        long block = sizeClass(bytes);
        boolean keep;
        synchronized (this) {
            live -= block;
            keep = cached + block <= maxCachedBytes;
            if (keep) {
                freeBlocks.computeIfAbsent(block, k -> new ArrayDeque<>()).push(address);
                cached += block;
            }
        }
        if (!keep) {
            raw.free(address);
        }
    }

    /** A new block as a segment of exactly {@code bytes} bytes. */
    MemorySegment allocateSegment(long bytes) {
        return MemorySegment.ofAddress(allocate(bytes)).reinterpret(bytes);
    }

    /** Frees every pooled block. */
    public void trimCache() {
        Map<Long, ArrayDeque<Long>> blocks;
        synchronized (this) {
            blocks = new HashMap<>(freeBlocks);
            freeBlocks.clear();
            cached = 0;
        }
        blocks.values().forEach(q -> q.forEach(raw::free));
    }

    /** A snapshot of the live, peak and pooled bytes. */
    public synchronized MemoryStats stats() {
        return new MemoryStats(live, peak, cached);
    }

    /** Starts a new peak measurement from the current live bytes. */
    public synchronized void resetPeak() {
        peak = live;
    }
}
