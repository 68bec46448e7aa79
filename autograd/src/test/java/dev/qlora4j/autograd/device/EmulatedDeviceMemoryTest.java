package dev.qlora4j.autograd.device;

import dev.qlora4j.autograd.llama.BaseFormat;
import dev.qlora4j.autograd.llama.LlamaConfig;
import dev.qlora4j.autograd.llama.ModelMemory;
import dev.qlora4j.cuda.CudaProbe;
import dev.qlora4j.engine.Device;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A model is checked against the GPU it will compute on, from {@code cudaMemGetInfo}: on the CUDA
 * host emulator's 80 GiB device, Llama 3.1 70B fits as NF4 (about 40 GiB: 68 G linear parameters at
 * 4.127 bits plus 2.1 G dense ones in F32) and not in F32 (about 270 GiB).
 */
@Tag("cuda-emulated")
class EmulatedDeviceMemoryTest {
    @Test
    void aModelIsCheckedAgainstTheGpuItWillComputeOn() {
        CudaProbe.Result r = CudaProbe.run();
        assumeTrue(r.usable() && r.emulated(), "the CUDA host emulator is not loaded: " + r.detail());
        Device gpu = Device.cuda(0);
        long free = gpu.memoryAvailable();
        assertTrue(free > 70L << 30 && free <= 80L << 30, free + " bytes free");
        // The host check passes with a budget; the GPU check decides.
        String before = System.getProperty(ModelMemory.AVAILABLE_PROPERTY);
        System.setProperty(ModelMemory.AVAILABLE_PROPERTY, Long.toString(1L << 50));
        try {
            ModelMemory.require(Path.of("llama-70b"), LlamaConfig.LLAMA31_70B, BaseFormat.NF4, gpu);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> ModelMemory.require(Path.of("llama-70b"), LlamaConfig.LLAMA31_70B, BaseFormat.F32, gpu));
            assertTrue(e.getMessage().contains("GiB on cuda:0") && e.getMessage().contains("--base-format"), e.getMessage());
        } finally {
            if (before == null) {
                System.clearProperty(ModelMemory.AVAILABLE_PROPERTY);
            } else {
                System.setProperty(ModelMemory.AVAILABLE_PROPERTY, before);
            }
        }
    }
}
