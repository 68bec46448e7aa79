package dev.qlora4j.engine.cuda;

import dev.qlora4j.engine.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The {@code void** args} array of {@code cudaLaunchKernel}: one pointer per kernel parameter, to
 * a copy of that parameter's value. Java values map to the kernel's C parameter types:
 * <ul>
 *   <li>{@link Tensor} → a device pointer to its first element (the tensor must be on the launch's device);</li>
 *   <li>{@link Pointer} → a raw device pointer, {@link Pointer#NULL} for an absent array;</li>
 *   <li>{@link Integer} → {@code int}, {@link Long} → {@code long long}, {@link Float} → {@code float};</li>
 *   <li>{@link MemorySegment} → a struct passed by value (its bytes, built by {@link KernelStructs}).</li>
 * </ul>
 */
final class KernelArguments {
    /** A raw device address. */
    record Pointer(long address) {
        static final Pointer NULL = new Pointer(0);
    }

    private KernelArguments() {
    }

    static MemorySegment build(Arena arena, CudaContext context, Object... values) {
        MemorySegment array = arena.allocate(ValueLayout.ADDRESS, values.length);
        for (int i = 0; i < values.length; i++) {
            array.setAtIndex(ValueLayout.ADDRESS, i, slot(arena, context, i, values[i]));
        }
        return array;
    }

    private static MemorySegment slot(Arena arena, CudaContext context, int index, Object v) {
        return switch (v) {
            case Tensor t -> {
                if (!t.device().equals(context.device())) {
                    throw new IllegalArgumentException("kernel argument " + index + ": tensor " + t.describe()
                            + " is not on " + context.device());
                }
                MemorySegment s = arena.allocate(ValueLayout.ADDRESS);
                s.set(ValueLayout.ADDRESS, 0, MemorySegment.ofAddress(CudaContext.address(t)));
                yield s;
            }
            case Pointer p -> {
                MemorySegment s = arena.allocate(ValueLayout.ADDRESS);
                s.set(ValueLayout.ADDRESS, 0, MemorySegment.ofAddress(p.address()));
                yield s;
            }
            case Integer x -> arena.allocateFrom(ValueLayout.JAVA_INT, x);
            case Long x -> arena.allocateFrom(ValueLayout.JAVA_LONG, x);
            case Float x -> arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
            case MemorySegment struct -> struct;
            default -> throw new IllegalArgumentException("kernel argument " + index + ": unsupported type "
                    + v.getClass().getName());
        };
    }
}
