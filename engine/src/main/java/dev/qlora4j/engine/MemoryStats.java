package dev.qlora4j.engine;

/**
 * A snapshot of one device allocator's counters, in bytes.
 *
 * @param live   bytes held by storages that are still open
 * @param peak   the highest {@code live} since start or the last {@link Allocator#resetPeak()}
 * @param cached bytes of freed blocks the pool keeps for reuse (not counted in {@code live})
 */
public record MemoryStats(long live, long peak, long cached) {
}
