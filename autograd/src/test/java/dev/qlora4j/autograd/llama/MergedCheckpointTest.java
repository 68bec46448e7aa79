package dev.qlora4j.autograd.llama;

import dev.qlora4j.autograd.LoraLinear;
import dev.qlora4j.autograd.Tape;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.safetensors.SafetensorsFile;
import dev.qlora4j.json.Json;
import dev.qlora4j.nf4.BnbCheckpoint;
import dev.qlora4j.nf4.FourBitWeight;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Base + adapter written as one merged Hugging Face folder computes what base + adapter computed:
 * the merged folder, loaded back, gives the same logits (F32, to rounding) for every config variant,
 * from dense and from NF4 bases; sharding, config.json and bitsandbytes' 4-bit layout are as
 * transformers writes them.
 */
class MergedCheckpointTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"llama2", "llama3_scaling", "tied", "head_dim", "biases", "qwen2", "dynamic_scaling"})
    void mergedLogitsEqualBasePlusAdapter(String variant) throws Exception {
        for (BaseFormat format : new BaseFormat[]{BaseFormat.F32, BaseFormat.NF4}) {
            Path out = dir.resolve(variant + "-" + format);
            float[] expected;
            try (LlamaModel model = adapted(HfVariantsTest.resource(variant), format)) {
                expected = logits(model);
                // Small shards, so that the index and several files are exercised.
                MergedCheckpoint.Report r = MergedCheckpoint.write(model, out, DType.F32, false, null, 40_000);
                assertTrue(r.files().size() > 1, r.toString());
                assertEquals(0, r.relativeError(), "F32 adds no rounding");
            }
            assertTrue(Files.isRegularFile(out.resolve("model.safetensors.index.json")));
            try (LlamaModel merged = LlamaModel.load(out, BaseFormat.F32)) {
                merged.allowLongerContext(true);
                assertTrue(merged.adapters().isEmpty());
                float[] got = logits(merged);
                double scale = 0;
                double worst = 0;
                for (int i = 0; i < got.length; i++) {
                    scale = Math.max(scale, Math.abs(expected[i]));
                    worst = Math.max(worst, Math.abs(got[i] - expected[i]));
                }
                assertTrue(worst <= 1e-5 * scale, variant + " " + format + ": max |Δ| " + worst + " of " + scale);
            }
        }
    }

    @Test
    void bf16AndNf4OutputsSayWhatTheyCostAndKeepTransformersLayout() throws Exception {
        Path base = HfVariantsTest.resource("llama3_gqa");
        try (LlamaModel model = adapted(base, BaseFormat.F32)) {
            MergedCheckpoint.Report bf16 = MergedCheckpoint.write(model, dir.resolve("bf16"), DType.BF16, false, base);
            // bf16 keeps 8 significant bits: rounding moves a value by at most half a unit in the last
            // place, 2^-8 of its magnitude.
            assertTrue(bf16.relativeError() > 0 && bf16.relativeError() <= 0x1p-8, bf16.toString());
            assertEquals(java.util.List.of("model.safetensors"), bf16.files());
            Map<?, ?> config = (Map<?, ?>) Json.parse(Files.readAllBytes(dir.resolve("bf16/config.json")));
            assertEquals("bfloat16", config.get("torch_dtype"));

            MergedCheckpoint.Report nf4 = MergedCheckpoint.write(model, dir.resolve("nf4"), DType.BF16, true, base);
            assertTrue(nf4.relativeError() > bf16.relativeError() && nf4.relativeError() < 0.2, nf4.toString());
            Map<?, ?> q = (Map<?, ?>) ((Map<?, ?>) Json.parse(Files.readAllBytes(dir.resolve("nf4/config.json"))))
                    .get("quantization_config");
            assertEquals("bitsandbytes", q.get("quant_method"));
            assertEquals("nf4", q.get("bnb_4bit_quant_type"));
            assertEquals(Boolean.TRUE, q.get("load_in_4bit"));
            try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("nf4/model.safetensors"))) {
                // Every decoder linear weight in the 4-bit layout; the rest dense.
                assertEquals(2 * LlamaModel.LINEAR_MODULES.size(), BnbCheckpoint.fourBitNames(f).size());
                String key = LlamaModel.linearKey(1, "down_proj");
                try (FourBitWeight w = BnbCheckpoint.readFourBit(f, key); Tensor back = w.dequantize(DType.F32);
                     Tensor merged = model.adapters().get(key).merged(DType.F32)) {
                    float[] a = back.toFloatArray();
                    float[] b = merged.toFloatArray();
                    double err = 0;
                    double max = 0;
                    for (int i = 0; i < a.length; i++) {
                        err = Math.max(err, Math.abs(a[i] - b[i]));
                        max = Math.max(max, Math.abs(b[i]));
                    }
                    assertTrue(err <= nf4.relativeError() * max + 1e-7, err + " vs " + nf4);
                }
                assertEquals(DType.BF16, f.info("model.embed_tokens.weight").dtype());
            }
        }
        assertTrue(Files.isRegularFile(dir.resolve("bf16/config.json")));
    }

    @Test
    void aFolderThatHoldsFilesIsNotOverwritten() throws Exception {
        Files.writeString(dir.resolve("keep.txt"), "mine");
        try (LlamaModel model = adapted(HfVariantsTest.resource("llama2"), BaseFormat.F32)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MergedCheckpoint.write(model, dir, DType.F32, false, null));
            assertTrue(e.getMessage().contains("not an empty folder"), e.getMessage());
        }
    }

    /** The folder's model with LoRA on every linear layer, B random so that the adapter changes the output. */
    private static LlamaModel adapted(Path folder, BaseFormat format) throws Exception {
        LlamaModel m = LlamaModel.load(folder, format);
        m.allowLongerContext(true);
        m.attachLora(new HashSet<>(LlamaModel.LINEAR_MODULES), 4, 8, false, 3);
        SplittableRandom r = new SplittableRandom(5);
        for (LoraLinear a : m.adapters().values()) {
            Tensor b = a.loraB().value();
            for (int i = 0; i < b.numel(); i++) {
                b.setFlat(i, (float) (r.nextGaussian() * 0.2));
            }
        }
        return m;
    }

    private static float[] logits(LlamaModel m) throws Exception {
        int[] ids = new int[20];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (i * 7 + 3) % m.config().vocabSize();
        }
        try (Scope s = Scope.open(); Tape.NoGrad off = Tape.noGrad(); Tensor t = Tensor.of(ids, 1, ids.length)) {
            return m.forward(t).value().toFloatArray();
        }
    }
}
