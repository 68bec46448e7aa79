package dev.qlora4j.cli;

import dev.qlora4j.autograd.LoraLinear;
import dev.qlora4j.autograd.Tape;
import dev.qlora4j.autograd.llama.BaseFormat;
import dev.qlora4j.autograd.llama.LlamaConfig;
import dev.qlora4j.autograd.llama.LlamaModel;
import dev.qlora4j.autograd.llama.PeftAdapter;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code qlora4j merge}: the written folder computes what base + adapter computed. */
class MergeCommandTest {
    @TempDir
    Path dir;

    @Test
    void mergedFolderComputesBasePlusAdapter() throws Exception {
        Path base = dir.resolve("base");
        Path adapter = dir.resolve("adapter");
        LlamaConfig c = new LlamaConfig(32, 2, 4, 2, 48, 50, 10000.0, 1e-5f, false);
        try (LlamaModel m = LlamaModel.random(c, 4, BaseFormat.F32)) {
            m.saveHf(base);
            m.attachLora(Set.of("q_proj", "v_proj", "down_proj"), 4, 8, false, 1);
            SplittableRandom r = new SplittableRandom(2);
            for (LoraLinear a : m.adapters().values()) {
                for (int i = 0; i < a.loraB().value().numel(); i++) {
                    a.loraB().value().setFlat(i, (float) (r.nextGaussian() * 0.2));
                }
            }
            PeftAdapter.save(adapter, m, "base");
        }
        Files.writeString(base.resolve("tokenizer.json"), "{}");
        CommandRun run = CommandRun.of("merge", "--model", base.toString(), "--adapter", adapter.toString(),
                "--out", dir.resolve("merged").toString(), "--dtype", "f32");
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().contains("merged 6 adapted layers into the base (loaded as nf4)"), run.out());
        assertTrue(run.out().contains("changes the linear weights by at most 0"), run.out());
        assertTrue(Files.isRegularFile(dir.resolve("merged/tokenizer.json")), "tokenizer files are copied");

        float[] expected;
        try (LlamaModel m = LlamaModel.load(base, BaseFormat.NF4)) {
            PeftAdapter.load(adapter, m);
            expected = logits(m);
        }
        try (LlamaModel merged = LlamaModel.load(dir.resolve("merged"), BaseFormat.F32)) {
            float[] got = logits(merged);
            for (int i = 0; i < got.length; i++) {
                assertEquals(expected[i], got[i], 1e-5 * (1 + Math.abs(expected[i])), "logit " + i);
            }
        }
        CommandRun again = CommandRun.of("merge", "--model", base.toString(), "--adapter", adapter.toString(),
                "--out", dir.resolve("merged").toString());
        assertEquals(1, again.status());
        assertTrue(again.err().contains("not an empty folder"), again.err());
    }

    private static float[] logits(LlamaModel m) {
        try (Scope s = Scope.open(); Tape.NoGrad off = Tape.noGrad(); Tensor ids = Tensor.of(new int[]{1, 7, 3, 9, 2, 11}, 1, 6)) {
            return m.forward(ids).value().toFloatArray();
        }
    }
}
