package dev.qlora4j.benchmarks;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.spi.Backend;
import dev.qlora4j.engine.spi.CpuKernels;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;

/**
 * GEMM throughput of the CPU backend. Shapes: square M=N=K, and "512x4096x4096T", the x·Wᵀ of a
 * 4096-wide linear layer on 512 tokens (W stored [N, K] and read transposed). GFLOP/s =
 * 2·M·N·K · (ops/s) / 1e9; benchmarks/compare/compare-gemm.sh converts and sets the peers beside it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@Fork(value = 2, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class GemmBenchmark {
    @Param({"256", "512", "1024", "2048", "512x4096x4096T"})
    public String shape;

    @Param({"F32", "BF16"})
    public String dtype;

    @Param({"1", "2"})
    public String threads;

    private Backend backend;
    private Tensor a;
    private Tensor b;
    private Tensor bView;
    private Tensor c;

    @Setup(Level.Trial)
    public void setup() {
        int m;
        int n;
        int k;
        boolean transposed = shape.endsWith("T");
        if (transposed) {
            String[] p = shape.substring(0, shape.length() - 1).split("x");
            m = Integer.parseInt(p[0]);
            k = Integer.parseInt(p[1]);
            n = Integer.parseInt(p[2]);
        } else {
            m = n = k = Integer.parseInt(shape);
        }
        DType t = DType.valueOf(dtype);
        backend = CpuKernels.newBackend(Integer.parseInt(threads));
        a = random(t, 1, m, k);
        // Transposed case: B is a weight stored [n, k], used as its [k, n] transpose view.
        b = transposed ? random(t, 2, n, k) : random(t, 2, k, n);
        bView = transposed ? b.transpose(0, 1) : b.reshape(k, n);
        c = Tensor.empty(DType.F32, m, n);
    }

    private static Tensor random(DType t, long seed, int rows, int cols) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return Tensor.of(t, v, rows, cols);
    }

    @Benchmark
    public Tensor gemm() {
        backend.matmul(a, bView, c, false);
        return c;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        c.close();
        bView.close();
        b.close();
        a.close();
        backend.close();
    }
}
