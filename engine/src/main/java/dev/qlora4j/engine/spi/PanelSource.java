package dev.qlora4j.engine.spi;

import java.lang.foreign.MemorySegment;

/**
 * The B operand of the CPU GEMM ({@link CpuKernels#gemm}), seen only through the panels the
 * micro-kernel reads. A plain matrix copies and widens its elements; a quantized weight decodes
 * them, so a GEMM over it never holds more than one {@code KC x NC} block of B in f32.
 */
public interface PanelSource {
    /** Columns per panel: the micro-kernel's width, two vectors of {@link VectorWidth#FLOATS}. */
    int NR = 2 * VectorWidth.FLOATS.length();

    /**
     * Writes B[b][pc:pc+kc, jc:jc+nc] into {@code dst} as consecutive panels of NR columns: panel q
     * holds, for each p, the NR values B(pc+p, jc+q*NR ...) as f32, zero past column nc.
     */
    void packPanels(int b, int pc, int kc, int jc, int nc, MemorySegment dst);

    /**
     * Relative cost of packing one element (1 = a scalar transpose), used to decide which operand a
     * multi-threaded GEMM repacks in every tile.
     */
    double packCostPerElement();
}
