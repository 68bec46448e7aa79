package dev.qlora4j.cli;

import dev.qlora4j.cuda.CudaProbe;
import dev.qlora4j.engine.Device;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link StepPeakTest} on the CUDA host emulator: the device's own allocations (a BF16 copy of the loss's
 * dlogits for cuBLAS, the input embedding left in host memory, offloaded layer inputs) are counted.
 */
@Tag("cuda-emulated")
class EmulatedStepPeakTest extends StepPeakTest {
    @Override
    Device device() {
        return Device.cuda(0);
    }

    @Test
    void theCountedPeakIsTheMeasuredOneWithinFivePercent() {
        CudaProbe.Result cuda = CudaProbe.run();
        assumeTrue(cuda.usable() && cuda.emulated(), "the CUDA host emulator is not loaded: " + cuda.detail());
        check(common());
    }
}
