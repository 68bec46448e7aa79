package dev.qlora4j.autograd.llama;

import dev.qlora4j.autograd.AdamW;
import dev.qlora4j.autograd.F;
import dev.qlora4j.autograd.Tape;
import dev.qlora4j.autograd.Var;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** An interrupted run resumed from its checkpoint ends exactly where an uninterrupted one does. */
class TrainingCheckpointTest {
    @TempDir
    Path dir;

    private static final LlamaConfig CONFIG = new LlamaConfig(32, 1, 2, 1, 48, 20, 10000.0, 1e-5f, false);

    /** One step on a batch drawn from the RNG state; returns the next RNG state. */
    private static long step(LlamaModel m, AdamW opt, long rng) {
        SplittableRandom r = new SplittableRandom(rng);
        float[] ids = new float[2 * 6];
        float[] targets = new float[ids.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(20);
            targets[i] = (ids[i] * 3 + 1) % 20;
        }
        try (Scope s = Scope.open()) {
            Tensor idT = Tensor.of(DType.I32, ids, 2, 6);
            Tensor tT = Tensor.of(DType.I32, targets, ids.length);
            Tape.backward(F.crossEntropy(m.forward(idT), tT, -100));
            opt.step(m.trainableParameters(), 1e-2f);
            m.trainableParameters().forEach(Var::zeroGrad);
        }
        return r.nextLong();
    }

    private static List<float[]> adapterValues(LlamaModel m) {
        List<float[]> v = new ArrayList<>();
        m.trainableParameters().forEach(p -> v.add(p.value().toFloatArray()));
        return v;
    }

    @Test
    void resumingGivesTheSameAdaptersAsNotStopping() throws Exception {
        List<float[]> straight;
        try (LlamaModel m = LlamaModel.random(CONFIG, 1, BaseFormat.NF4); AdamW opt = AdamW.withDefaults()) {
            m.attachLora(Set.of("q_proj", "v_proj"), 4, 8, false, 2);
            long rng = 42;
            for (int i = 0; i < 6; i++) {
                rng = step(m, opt, rng);
            }
            straight = adapterValues(m);
        }
        try (LlamaModel m = LlamaModel.random(CONFIG, 1, BaseFormat.NF4); AdamW opt = AdamW.withDefaults()) {
            m.attachLora(Set.of("q_proj", "v_proj"), 4, 8, false, 2);
            long rng = 42;
            for (int i = 0; i < 3; i++) {
                rng = step(m, opt, rng);
                TrainingCheckpoint.save(dir, m, opt, i + 1, rng);
            }
        }
        try (LlamaModel m = LlamaModel.random(CONFIG, 1, BaseFormat.NF4); AdamW opt = AdamW.withDefaults()) {
            m.attachLora(Set.of("q_proj", "v_proj"), 4, 8, false, 99);
            TrainingCheckpoint.State s = TrainingCheckpoint.resume(dir, m, opt);
            assertEquals(3, s.step());
            assertEquals(3, opt.steps());
            long rng = s.rngState();
            for (long i = s.step(); i < 6; i++) {
                rng = step(m, opt, rng);
            }
            List<float[]> resumed = adapterValues(m);
            for (int k = 0; k < straight.size(); k++) {
                assertArrayEquals(straight.get(k), resumed.get(k), "parameter " + k);
            }
        }
    }

    @Test
    void noCheckpointIsSaidSo() {
        try (LlamaModel m = LlamaModel.random(CONFIG, 1, BaseFormat.F32); AdamW opt = AdamW.withDefaults()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainingCheckpoint.resume(dir, m, opt));
            assertEquals(true, e.getMessage().contains("no training checkpoint"), e.getMessage());
        }
    }
}
