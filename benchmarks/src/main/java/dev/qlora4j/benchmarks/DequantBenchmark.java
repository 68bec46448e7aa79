package dev.qlora4j.benchmarks;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.spi.CpuKernels;
import dev.qlora4j.nf4.FourBitWeight;
import dev.qlora4j.nf4.QuantType;
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

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * NF4 (double-quant, block 64) dequantization of a 4096x4096 weight to F32 or BF16, beside a
 * plain copy of the same number of output bytes on the same threads: GB/s written =
 * bytes · (ops/s) / 1e9, with {@code bytes} = 4096·4096·(4 or 2).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
public class DequantBenchmark {
    @Param({"F32", "BF16"})
    public String out;

    private FourBitWeight weight;
    private Tensor source;
    private Tensor target;
    private DType outType;

    @Setup(Level.Trial)
    public void setup() {
        outType = DType.valueOf(out);
        SplittableRandom r = new SplittableRandom(1);
        float[] v = new float[4096 * 4096];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * 0.02);
        }
        try (Tensor w = Tensor.of(DType.BF16, v, 4096, 4096)) {
            weight = FourBitWeight.quantize(w, QuantType.NF4, 64, true);
        }
        source = Tensor.zeros(outType, 4096, 4096);
        target = Tensor.zeros(outType, 4096, 4096);
    }

    @Benchmark
    public Tensor dequantize() {
        Tensor t = weight.dequantize(outType);
        t.close();
        return t;
    }

    /** The same bytes copied in the same chunks on the same pool: the memory-bandwidth yardstick. */
    @Benchmark
    public Tensor copy() {
        MemorySegment s = source.segment();
        MemorySegment d = target.segment();
        long bytes = source.numel() * outType.byteSize();
        long chunk = 1 << 18;
        CpuKernels.parallel((int) ((bytes + chunk - 1) / chunk), t -> {
            long lo = t * chunk;
            MemorySegment.copy(s, lo, d, lo, Math.min(chunk, bytes - lo));
        });
        return target;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        weight.close();
        source.close();
        target.close();
    }
}
