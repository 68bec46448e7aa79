package dev.qlora4j.benchmarks;

import dev.qlora4j.autograd.F;
import dev.qlora4j.autograd.Tape;
import dev.qlora4j.autograd.Var;
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

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Causal attention forward + backward on the CPU: the fused op ({@code F.causalAttention}, which keeps
 * no T×T tensor) against the same attention composed from plain ops (q·kᵀ, scale, an additive −∞
 * mask, softmax, ·v — what the engine ran before, keeping four T×T tensors per head). Shapes: B×H×T×d,
 * plain heads (the composed form has no repeat_kv here). Threads: {@code -jvmArgsAppend -Dqlora4j.threads=N}.
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class AttentionBenchmark {
    @Param({"fused", "composed"})
    public String form;

    /** batch x heads x tokens x head dim: TrainStepBenchmark's, and one head group of a 7B layer at 512 tokens. */
    @Param({"8x4x128x64", "1x32x512x128"})
    public String shape;

    private Tensor q;
    private Tensor k;
    private Tensor v;
    private Tensor w;
    private Tensor mask;

    @Setup(Level.Trial)
    public void setup() {
        String[] s = shape.split("x");
        int b = Integer.parseInt(s[0]);
        int h = Integer.parseInt(s[1]);
        int t = Integer.parseInt(s[2]);
        int d = Integer.parseInt(s[3]);
        SplittableRandom r = new SplittableRandom(1);
        q = random(r, b, h, t, d);
        k = random(r, b, h, t, d);
        v = random(r, b, h, t, d);
        w = random(r, b, h, t, d);
        float[] m = new float[t * t];
        for (int i = 0; i < t; i++) {
            for (int j = i + 1; j < t; j++) {
                m[i * t + j] = Float.NEGATIVE_INFINITY;
            }
        }
        mask = Tensor.of(m, t, t);
    }

    private static Tensor random(SplittableRandom r, int... dims) {
        int n = 1;
        for (int d : dims) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return Tensor.of(v, dims);
    }

    @Benchmark
    public float forwardBackward() {
        try (Scope s = Scope.open()) {
            Var vq = Var.leaf(q, true);
            Var vk = Var.leaf(k, true);
            Var vv = Var.leaf(v, true);
            Var out;
            if (form.equals("fused")) {
                out = F.causalAttention(vq, vk, vv);
            } else {
                Var scores = F.scale(F.matmul(vq, F.transpose(vk, -1, -2)), (float) (1 / Math.sqrt(q.dim(3))));
                out = F.matmul(F.softmax(F.add(scores, Var.leaf(mask, false))), vv);
            }
            Tape.backward(F.sum(F.mul(out, Var.leaf(w, false))));
            float g = vq.grad().getFlat(0);
            vq.zeroGrad();
            vk.zeroGrad();
            vv.zeroGrad();
            return g;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        q.close();
        k.close();
        v.close();
        w.close();
        mask.close();
    }
}
