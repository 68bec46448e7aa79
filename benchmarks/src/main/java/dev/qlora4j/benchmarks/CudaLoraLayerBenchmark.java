package dev.qlora4j.benchmarks;

import dev.qlora4j.autograd.F;
import dev.qlora4j.autograd.FrozenWeight;
import dev.qlora4j.autograd.LoraLinear;
import dev.qlora4j.autograd.Tape;
import dev.qlora4j.autograd.Var;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
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
 * The QLoRA layer on the GPU: forward and backward of {@code y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ} for x
 * [tokens, d], W [d, d] frozen in NF4 + double quant (decoded to BF16 in bands for cuBLAS), A and
 * B trainable F32 — gradients for x, A and B, as {@code cuda/gpu-check/torch_peers.py}'s lora_layer.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class CudaLoraLayerBenchmark {
    @Param({"4096"})
    public int tokens;

    @Param({"4096"})
    public int d;

    @Param({"16"})
    public int rank;

    @Param({"NF4"})
    public String base;

    private Device device;
    private Tensor x;
    private Tensor dy;
    private QuantizedWeight weight;
    private LoraLinear lora;

    @Setup(Level.Trial)
    public void setup() {
        device = CudaBenchmarks.device();
        x = CudaBenchmarks.gaussian(1, 1, DType.F32, tokens, d);
        dy = CudaBenchmarks.gaussian(2, 1, DType.F32, tokens, d);
        try (Tensor w = CudaBenchmarks.gaussian(3, 1 / Math.sqrt(d), DType.F32, d, d); Tensor host = w.to(Device.CPU);
             FourBitWeight q = FourBitWeight.quantize(host, QuantType.valueOf(base), 64, true)) {
            weight = q.to(CudaBenchmarks.DEVICE);
        }
        lora = LoraLinear.create(FrozenWeight.of(weight), rank, 2f * rank, false, LoraLinear.Init.KAIMING_UNIFORM, 4);
    }

    @Benchmark
    public void lora() {
        try (dev.qlora4j.engine.Scope s = dev.qlora4j.engine.Scope.open()) {
            Var xv = Var.leaf(x, true);
            Tape.backward(F.sum(F.mul(lora.forward(xv), Var.leaf(dy, false))));
            xv.zeroGrad();
            lora.parameters().forEach(Var::zeroGrad);
            device.synchronize();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        lora.close();
        weight.close();
        x.close();
        dy.close();
    }
}
