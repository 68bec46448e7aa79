package dev.qlora4j.benchmarks;

import dev.qlora4j.autograd.AdamW;
import dev.qlora4j.autograd.Tape;
import dev.qlora4j.autograd.Var;
import dev.qlora4j.autograd.llama.BaseFormat;
import dev.qlora4j.autograd.llama.LlamaConfig;
import dev.qlora4j.autograd.llama.LlamaModel;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;
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

import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One QLoRA training step of a small Llama-architecture model — 4 layers, d = 256, 4 heads,
 * intermediate 688, vocab 256, batch 8 × 128 tokens — with LoRA r = 8 on q and v over an NF4 or F32
 * base, or fully fine-tuned ({@code full}: every weight trained in F32): forward, cross-entropy,
 * backward, AdamW. Threads: {@code -jvmArgsAppend -Dqlora4j.threads=N}.
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class TrainStepBenchmark {
    @Param({"NF4", "F32", "full"})
    public String base;

    private LlamaModel model;
    private AdamW optimizer;
    private Tensor ids;
    private Tensor targets;

    @Setup(Level.Trial)
    public void setup() {
        LlamaConfig c = new LlamaConfig(256, 4, 4, 4, 688, 256, 10000.0, 1e-5f, false);
        if (base.equals("full")) {
            model = LlamaModel.random(c, 1, BaseFormat.F32);
            model.enableFullFineTuning();
        } else {
            model = LlamaModel.random(c, 1, BaseFormat.valueOf(base));
            model.attachLora(Set.of("q_proj", "v_proj"), 8, 16, false, 2);
        }
        optimizer = AdamW.withDefaults();
        SplittableRandom r = new SplittableRandom(3);
        float[] in = new float[8 * 128];
        float[] out = new float[in.length];
        for (int i = 0; i < in.length; i++) {
            in[i] = r.nextInt(256);
            out[i] = r.nextInt(256);
        }
        ids = Tensor.of(DType.I32, in, 8, 128);
        targets = Tensor.of(DType.I32, out, in.length);
    }

    @Benchmark
    public float step() {
        try (Scope s = Scope.open()) {
            Var loss = model.loss(ids, targets, -100);
            Tape.backward(loss);
            optimizer.step(model.trainableParameters(), 1e-3f);
            model.trainableParameters().forEach(Var::zeroGrad);
            return loss.value().getFlat(0);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        optimizer.close();
        model.close();
        ids.close();
        targets.close();
    }
}
