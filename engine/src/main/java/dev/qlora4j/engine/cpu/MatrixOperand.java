package dev.qlora4j.engine.cpu;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.spi.PanelSource;

import java.lang.foreign.MemorySegment;

/**
 * A batch of matrices in memory: element (b, i, j) is at element index
 * {@code offset + b*batchStride + i*rowStride + j*colStride} of {@code segment}. Transposition is
 * a swap of the two strides, so GEMM needs no transpose flags.
 *
 * @param dtype F32, BF16 or F16 for GEMM inputs; F32 for outputs
 */
public record MatrixOperand(MemorySegment segment, DType dtype, long offset, long batchStride, long rowStride,
                            long colStride) implements PanelSource {

    @Override
    public void packPanels(int b, int pc, int kc, int jc, int nc, MemorySegment dst) {
        Gemm.packB(this, b, pc, kc, jc, nc, dst);
    }

    /** Row-major F32/BF16 panels are vector copies; anything else is an element-by-element transpose. */
    @Override
    public double packCostPerElement() {
        return colStride == 1 && (dtype == DType.F32 || dtype == DType.BF16) ? 0.25 : 1.0;
    }

    /** Byte address of element (b, i, j) within {@link #segment()}. */
    long byteIndex(int b, long i, long j) {
        return (offset + b * batchStride + i * rowStride + j * colStride) * dtype.byteSize();
    }

    /** This batch seen as one matrix: the output rows of consecutive batches follow each other. */
    MatrixOperand withRows() {
        return new MatrixOperand(segment, dtype, offset, 0, rowStride, colStride);
    }
}
