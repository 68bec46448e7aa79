package dev.qlora4j.benchmarks;

import dev.qlora4j.autograd.F;
import dev.qlora4j.autograd.FrozenWeight;
import dev.qlora4j.autograd.LoraLinear;
import dev.qlora4j.autograd.Tape;
import dev.qlora4j.autograd.Var;
import dev.qlora4j.engine.Allocator;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.nf4.FourBitWeight;
import dev.qlora4j.nf4.QuantType;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The rank sweep: forward + backward of one linear layer on 512 tokens, in = out = d, as LoRA of
 * rank r over a frozen F32 or NF4 base (gradients for x, A and B), or fully fine-tuned ("full": dW
 * computed, r unused). Threads: {@code -jvmArgsAppend -Dqlora4j.threads=N}. The peak bytes the step
 * allocates above what existed before are reported as a secondary result.
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class LoraLayerBenchmark {
    @Param({"1024", "4096"})
    public int d;

    @Param({"4", "8", "16", "32", "64"})
    public int rank;

    @Param({"F32", "NF4", "full"})
    public String base;

    private static final int TOKENS = 512;

    private Tensor x;
    private Tensor g;
    private Tensor w;
    private FourBitWeight q;
    private LoraLinear lora;
    private Var trainableW;

    /** Peak bytes above the live bytes at the start of an iteration, for the secondary result. */
    @State(org.openjdk.jmh.annotations.Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Peak {
        public long peakBytes;
    }

    @Setup(Level.Trial)
    public void setup() {
        SplittableRandom r = new SplittableRandom(1);
        x = gaussian(r, 1, TOKENS, d);
        g = gaussian(r, 1, TOKENS, d);
        w = gaussian(r, 1 / Math.sqrt(d), d, d);
        switch (base) {
            case "NF4" -> {
                q = FourBitWeight.quantize(w, QuantType.NF4, 64, true);
                lora = LoraLinear.create(FrozenWeight.of(q), rank, 2f * rank, false, LoraLinear.Init.KAIMING_UNIFORM, 2);
            }
            case "F32" -> lora = LoraLinear.create(FrozenWeight.of(w), rank, 2f * rank, false, LoraLinear.Init.KAIMING_UNIFORM, 2);
            default -> trainableW = Var.leaf(w, true);
        }
    }

    private static Tensor gaussian(SplittableRandom r, double scale, int... dims) {
        float[] v = new float[dims[0] * dims[1]];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        return Tensor.of(v, dims);
    }

    @Benchmark
    public float forwardBackward(Peak peak) {
        Allocator a = Allocator.cpu();
        long before = a.stats().live();
        a.resetPeak();
        float out;
        try (Scope s = Scope.open()) {
            Var xv = Var.leaf(x, true);
            Var y = trainableW != null ? F.matmul(xv, F.transpose(trainableW, 0, 1)) : lora.forward(xv);
            Var loss = F.sum(F.mul(y, Var.leaf(g, false)));
            Tape.backward(loss);
            out = loss.value().getFlat(0);
            xv.zeroGrad();
            if (trainableW != null) {
                trainableW.zeroGrad();
            } else {
                lora.parameters().forEach(Var::zeroGrad);
            }
        }
        peak.peakBytes = Math.max(peak.peakBytes, a.stats().peak() - before);
        return out;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (lora != null) {
            lora.close();
        }
        if (q != null) {
            q.close();
        }
        w.close();
        x.close();
        g.close();
    }
}
