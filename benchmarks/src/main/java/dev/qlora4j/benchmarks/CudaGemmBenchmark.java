package dev.qlora4j.benchmarks;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * BF16 GEMM on the GPU through {@code Ops.matmul} (cuBLAS GemmEx, FP32 accumulation, F32 result):
 * {@code y[M, N] = x[M, K] · W[N, K]ᵀ}, W a transposed view as in a linear layer. Each invocation
 * waits for the GPU, so the time is the product's.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class CudaGemmBenchmark {
    /** M×N×K. */
    @Param({"8192x8192x8192", "4096x4096x4096", "4096x14336x4096", "4096x4096x14336"})
    public String shape;

    @Param({"BF16"})
    public String dtype;

    private Device device;
    private Tensor x;
    private Tensor w;
    private Tensor wt;

    @Setup(Level.Trial)
    public void setup() {
        device = CudaBenchmarks.device();
        String[] mnk = shape.split("x");
        int m = Integer.parseInt(mnk[0]);
        int n = Integer.parseInt(mnk[1]);
        int k = Integer.parseInt(mnk[2]);
        x = CudaBenchmarks.gaussian(1, 1, DType.valueOf(dtype), m, k);
        w = CudaBenchmarks.gaussian(2, 1 / Math.sqrt(k), DType.valueOf(dtype), n, k);
        wt = w.transpose(0, 1);
    }

    /** The product in the inputs' dtype, as torch.matmul returns it: BF16 inputs give a BF16 result. */
    @Benchmark
    public void gemm() {
        try (Tensor y = Ops.matmul(x, wt, x.dtype() == DType.BF16 ? DType.BF16 : DType.F32)) {
            device.synchronize();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        wt.close();
        w.close();
        x.close();
    }
}
