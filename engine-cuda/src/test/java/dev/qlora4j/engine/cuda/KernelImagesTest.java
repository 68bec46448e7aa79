package dev.qlora4j.engine.cuda;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel images ship in the jar: the PTX (with every kernel's .entry) and the fatbin, whose
 * header starts with the fatbin magic 0xBA55ED50 (little-endian), as nvcc writes it and
 * cudaLibraryLoadData recognises it. Whether each is what its .cu compiles to today is
 * PtxUpToDateTest's check, where nvcc is installed.
 */
class KernelImagesTest {
    @Test
    void ptxAndFatbinAreInTheJar() throws IOException {
        try (InputStream ptx = CudaBackend.class.getResourceAsStream("kernels.ptx");
             InputStream fatbin = CudaBackend.class.getResourceAsStream("kernels.fatbin")) {
            assertNotNull(ptx, "kernels.ptx");
            assertNotNull(fatbin, "kernels.fatbin");
            String text = new String(ptx.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
            assertTrue(CudaModule.entries(text).contains("binary_contiguous_f32"), "the PTX's entries");
            byte[] head = fatbin.readNBytes(8);
            assertEquals(0xBA55ED50, ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getInt(), "fatbin magic");
        }
    }
}
