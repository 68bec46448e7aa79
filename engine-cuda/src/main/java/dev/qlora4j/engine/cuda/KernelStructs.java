package dev.qlora4j.engine.cuda;

import dev.qlora4j.engine.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * The by-value structs of the kernels in {@code kernels.cu}, laid out as C lays them out:
 * <pre>
 *   typedef struct { long long offset; long long strides[8]; } QlView;   // elements
 *   typedef struct { int rank; int pad; long long dims[8]; } QlShape;
 * </pre>
 */
final class KernelStructs {
    /** The most dimensions a strided kernel addresses. */
    static final int MAX_RANK = 8;

    static final StructLayout VIEW = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("offset"),
            MemoryLayout.sequenceLayout(MAX_RANK, ValueLayout.JAVA_LONG).withName("strides"));
    static final StructLayout SHAPE = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("rank"),
            ValueLayout.JAVA_INT.withName("pad"),
            MemoryLayout.sequenceLayout(MAX_RANK, ValueLayout.JAVA_LONG).withName("dims"));

    private KernelStructs() {
    }

    /**
     * The view of {@code t} as an operand of a result of shape {@code dims}: t's axes align with the
     * trailing ones, and an axis t broadcasts (size 1, or missing) gets stride 0. The offset is 0:
     * the kernel is given a pointer to t's first element (see {@link KernelArguments}).
     */
    static MemorySegment view(Arena arena, Tensor t, int[] dims) {
        checkRank(dims.length);
        MemorySegment s = arena.allocate(VIEW);
        int lead = dims.length - t.rank();
        for (int d = 0; d < dims.length; d++) {
            long stride = d < lead || t.dim(d - lead) == 1 ? 0 : t.stride(d - lead);
            s.set(ValueLayout.JAVA_LONG, 8 + 8L * d, stride);
        }
        return s;
    }

    static MemorySegment shape(Arena arena, int[] dims) {
        checkRank(dims.length);
        MemorySegment s = arena.allocate(SHAPE);
        s.set(ValueLayout.JAVA_INT, 0, dims.length);
        for (int d = 0; d < dims.length; d++) {
            s.set(ValueLayout.JAVA_LONG, 8 + 8L * d, dims[d]);
        }
        return s;
    }

    private static void checkRank(int rank) {
        if (rank > MAX_RANK) {
            throw new IllegalArgumentException("CUDA strided kernels address at most " + MAX_RANK
                    + " dimensions; got a tensor of rank " + rank + " (reshape it first)");
        }
    }
}
