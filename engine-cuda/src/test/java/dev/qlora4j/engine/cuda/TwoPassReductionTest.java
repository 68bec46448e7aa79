package dev.qlora4j.engine.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** When a CUDA reduction splits its axis in two passes, and into which chunks (no GPU needed). */
class TwoPassReductionTest {
    @Test
    void fewOutputsOverALongAxisSplitIntoTheLargestDividingChunk() {
        assertEquals(1 << 14, CudaBackend.twoPassChunk(1, 1 << 17));
        assertEquals(3 * 5 * 7 * 11 * 13, CudaBackend.twoPassChunk(1, 3 * 5 * 7 * 11 * 13 * 17));
        assertEquals(1 << 14, CudaBackend.twoPassChunk(1023, 1 << 20));
    }

    @Test
    void manyOutputsShortAxesAndPrimeLengthsKeepOnePass() {
        assertEquals(0, CudaBackend.twoPassChunk(1024, 1 << 20));
        assertEquals(0, CudaBackend.twoPassChunk(1, (1 << 16) - 1));
        assertEquals(0, CudaBackend.twoPassChunk(1, 65537));
    }
}
