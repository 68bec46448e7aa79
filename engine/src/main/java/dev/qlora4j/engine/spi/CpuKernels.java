package dev.qlora4j.engine.spi;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.cpu.CpuBackend;
import dev.qlora4j.engine.cpu.Gemm;
import dev.qlora4j.engine.cpu.MatrixOperand;

import java.util.function.IntConsumer;

/**
 * What a CPU kernel outside the engine (a quantized weight format's, a benchmark's) may use of the
 * CPU backend: its threads and its GEMM over a {@link PanelSource}. With {@link VectorWidth} and
 * {@link Bf16Vectors}, this is the CPU half of the engine's service-provider interface; the backend
 * itself stays internal.
 */
public final class CpuKernels {
    private CpuKernels() {
    }

    /** How many threads {@link #parallel} runs on. */
    public static int threads() {
        return CpuBackend.shared().threads();
    }

    /**
     * Runs {@code task} for each of {@code 0 .. tasks-1} on the CPU backend's threads and returns when
     * all have finished; an exception in a task is rethrown here.
     */
    public static void parallel(int tasks, IntConsumer task) {
        CpuBackend.shared().pool().run(tasks, task);
    }

    /**
     * {@code out = x · B} on the shared threads, for a contiguous floating-point {@code x [..., k]}
     * (its leading axes are the m rows), a B of {@code k} rows and {@code n} columns seen through its
     * panels, and a contiguous F32 {@code out [..., n]} with x's leading axes, all in host memory.
     */
    public static void gemm(Tensor x, PanelSource b, Tensor out) {
        if (!x.device().equals(Device.CPU) || !out.device().equals(Device.CPU) || x.rank() < 1 || out.rank() < 1
                || !x.isContiguous() || !out.isContiguous() || out.dtype() != DType.F32
                || !x.dtype().isFloatingPoint() || x.dim(-1) == 0 || out.dim(-1) == 0
                || x.numel() / x.dim(-1) != out.numel() / out.dim(-1)) {
            throw new IllegalArgumentException("CpuKernels.gemm " + x.describe() + " into " + out.describe()
                    + ": expected contiguous host tensors, x floating-point [..., k] and out F32 [..., n] with x's rows");
        }
        int k = x.dim(-1);
        int n = out.dim(-1);
        int m = (int) (x.numel() / k);
        MatrixOperand a = new MatrixOperand(x.segment(), x.dtype(), x.offset(), 0, k, 1);
        MatrixOperand c = new MatrixOperand(out.segment(), DType.F32, out.offset(), 0, n, 1);
        Gemm.gemm(CpuBackend.shared().pool(), 1, m, n, k, a, b, c, false);
    }

    /**
     * A CPU backend of its own on {@code threads} threads, which the caller closes: for benchmarks
     * that measure a kernel at a given thread count.
     */
    public static Backend newBackend(int threads) {
        return new CpuBackend(threads);
    }
}
