package dev.qlora4j.benchmarks;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.nf4.FourBitWeight;
import dev.qlora4j.nf4.QuantType;
import dev.qlora4j.nf4.QuantizedMatmul;
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

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * x[tokens, in] · Wᵀ with W [out, in] as NF4 (double quant, block 64, fused: decoded panel by panel)
 * against the same product with W in F32 and in BF16, on all cores. tokens = 512 is the fused-GEMM
 * target (at most 1.25x the F32 time); tokens = 1 is the gemv target (NF4 at least 2.5x faster
 * than BF16). Average time per product.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
public class QuantizedGemmBenchmark {
    @Param({"512x4096x4096", "1x4096x4096", "1x14336x4096"})
    public String shape;

    @Param({"NF4", "F32", "BF16"})
    public String weight;

    private Tensor x;
    private Tensor w;
    private Tensor wt;
    private FourBitWeight q;

    @Setup(Level.Trial)
    public void setup() {
        String[] p = shape.split("x");
        int tokens = Integer.parseInt(p[0]);
        int out = Integer.parseInt(p[1]);
        int in = Integer.parseInt(p[2]);
        SplittableRandom r = new SplittableRandom(2);
        float[] xv = new float[tokens * in];
        for (int i = 0; i < xv.length; i++) {
            xv[i] = (float) r.nextGaussian();
        }
        x = Tensor.of(xv, tokens, in);
        float[] wv = new float[out * in];
        for (int i = 0; i < wv.length; i++) {
            wv[i] = (float) (r.nextGaussian() * 0.02);
        }
        if (weight.equals("NF4")) {
            try (Tensor full = Tensor.of(DType.BF16, wv, out, in)) {
                q = FourBitWeight.quantize(full, QuantType.NF4, 64, true);
            }
        } else {
            w = Tensor.of(DType.valueOf(weight), wv, out, in);
            wt = w.transpose(0, 1);
        }
    }

    @Benchmark
    public Tensor linear() {
        Tensor y = q != null ? QuantizedMatmul.linear(x, q) : Ops.matmul(x, wt);
        y.close();
        return y;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        x.close();
        if (q != null) {
            q.close();
        } else {
            wt.close();
            w.close();
        }
    }
}
