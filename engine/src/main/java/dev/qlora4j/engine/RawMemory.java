package dev.qlora4j.engine;

/**
 * The raw block source under an {@link Allocator}: host {@code aligned_alloc}, or device memory.
 * Implementations return addresses aligned to {@link Allocator#ALIGNMENT} for sizes that are
 * multiples of it.
 */
public interface RawMemory {
    /** A new block of {@code bytes} bytes; its contents are unspecified. */
    long allocate(long bytes);

    /** Returns a block that {@link #allocate} gave. */
    void free(long address);
}
