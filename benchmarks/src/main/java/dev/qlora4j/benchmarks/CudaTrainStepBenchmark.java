package dev.qlora4j.benchmarks;

import dev.qlora4j.autograd.AdamW;
import dev.qlora4j.autograd.llama.BaseFormat;
import dev.qlora4j.autograd.llama.LlamaConfig;
import dev.qlora4j.autograd.llama.LlamaModel;
import dev.qlora4j.autograd.llama.Trainer;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
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

import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One QLoRA training step of a small Llama-architecture model on the GPU — NF4 + double-quant
 * base, LoRA r on q_proj and v_proj, cross-entropy, backward, AdamW — at the shapes of
 * {@code cuda/gpu-check/torch_peers.py}'s train_step; tokens/s = batch·seq / time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class CudaTrainStepBenchmark {
    @Param({"4"})
    public int layers;

    @Param({"512"})
    public int hidden;

    @Param({"8"})
    public int heads;

    @Param({"2"})
    public int kv_heads;

    @Param({"1376"})
    public int intermediate;

    @Param({"8000"})
    public int vocab;

    @Param({"8"})
    public int batch;

    @Param({"256"})
    public int seq;

    @Param({"8"})
    public int rank;

    private Device device;
    private LlamaModel model;
    private Trainer trainer;
    private Tensor ids;
    private Tensor targets;

    @Setup(Level.Trial)
    public void setup() {
        device = CudaBenchmarks.device();
        LlamaConfig c = new LlamaConfig(hidden, layers, heads, kv_heads, intermediate, vocab, 10000.0, 1e-5f, false);
        model = LlamaModel.random(c, 1, BaseFormat.NF4);
        model.to(CudaBenchmarks.DEVICE);
        model.attachLora(Set.of("q_proj", "v_proj"), rank, 2f * rank, false, 2);
        trainer = new Trainer(model, AdamW.withDefaults(), new Trainer.Schedule(1e-3f, 0, 1_000_000, 0));
        SplittableRandom r = new SplittableRandom(3);
        float[] in = new float[batch * seq];
        float[] out = new float[in.length];
        for (int i = 0; i < in.length; i++) {
            in[i] = r.nextInt(vocab);
            out[i] = r.nextInt(vocab);
        }
        ids = Tensor.of(DType.I32, in, batch, seq);
        targets = Tensor.of(DType.I32, out, in.length);
    }

    @Benchmark
    public float train() {
        // step() reads the loss back to the host, which waits for the GPU.
        return trainer.step(ids, targets);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        trainer.close();
        model.close();
        ids.close();
        targets.close();
    }
}
