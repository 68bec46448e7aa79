package dev.qlora4j.benchmarks;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Shape;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.nf4.FourBitWeight;
import dev.qlora4j.nf4.QuantType;
import dev.qlora4j.nf4.QuantizedWeight;
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
 * NF4 + double-quant dequantization to BF16 on the GPU, and — in the same run, as the yardstick
 * the target is stated against — a device-to-device copy of 1 GiB. Bandwidth: dequant moves
 * n/2 + n/64 + n/16384·4 bytes in and 2n out; the copy moves its bytes in and out.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class CudaDequantBenchmark {
    /** The dequantized weight, ROWS×COLS. */
    @Param({"4096x14336"})
    public String shape;

    @Param({"BF16"})
    public String out;

    /** Bytes of the copy. */
    @Param({"1073741824"})
    public long bytes;

    private Device device;
    private QuantizedWeight weight;
    private Tensor src;
    private Tensor dst;

    @Setup(Level.Trial)
    public void setup() {
        device = CudaBenchmarks.device();
        String[] rc = shape.split("x");
        try (Tensor w = CudaBenchmarks.gaussian(1, 0.02, DType.F32, Integer.parseInt(rc[0]), Integer.parseInt(rc[1]));
             Tensor host = w.to(dev.qlora4j.engine.Device.CPU);
             FourBitWeight q = FourBitWeight.quantize(host, QuantType.NF4, 64, true)) {
            weight = q.to(CudaBenchmarks.DEVICE);
        }
        src = Tensor.zeros(DType.U8, Shape.of((int) (bytes / 4096), 4096), CudaBenchmarks.DEVICE);
        dst = Tensor.empty(DType.U8, Shape.of((int) (bytes / 4096), 4096), CudaBenchmarks.DEVICE);
    }

    @Benchmark
    public void dequant() {
        try (Tensor w = weight.dequantize(DType.valueOf(out))) {
            device.synchronize();
        }
    }

    @Benchmark
    public void copy() {
        Ops.copyInto(src, dst);
        device.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        weight.close();
        src.close();
        dst.close();
    }
}
