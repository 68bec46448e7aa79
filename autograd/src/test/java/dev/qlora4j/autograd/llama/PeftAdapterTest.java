package dev.qlora4j.autograd.llama;

import dev.qlora4j.autograd.LoraLinear;
import dev.qlora4j.autograd.Var;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PEFT's adapter files: key names, shapes, dtype, the config text, and a round trip. */
class PeftAdapterTest {
    @TempDir
    Path dir;

    @Test
    void savedFilesHavePeftsKeysShapesAndConfigAndLoadBack() throws Exception {
        LlamaConfig c = new LlamaConfig(16, 2, 2, 1, 24, 32, 10000.0, 1e-5f, false);
        try (LlamaModel m = LlamaModel.random(c, 1, BaseFormat.NF4); LlamaModel other = LlamaModel.random(c, 1, BaseFormat.NF4)) {
            m.attachLora(Set.of("q_proj", "v_proj"), 4, 16, false, 7);
            int k = 0;
            for (Var p : m.trainableParameters()) {
                for (int i = 0; i < p.value().numel(); i++) {
                    p.value().setFlat(i, (k * 1000 + i) * 1e-3f);
                }
                k++;
            }
            PeftAdapter.save(dir, m, "tiny-llama");
            try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("adapter_model.safetensors"))) {
                assertEquals(8, f.names().size());
                assertEquals(Map.of("format", "pt"), f.metadata());
                String a = "base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight";
                String b = "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight";
                assertEquals(DType.F32, f.info(a).dtype());
                assertArrayEquals(new int[]{4, 16}, f.info(a).shape().dims()); // [r, in]
                assertArrayEquals(new int[]{8, 4}, f.info(b).shape().dims());  // [out, r]: 1 kv head of dim 8
            }
            // adapter_config.json is byte for byte what Python's json.dumps(indent=2, sort_keys=True) prints:
            // the expected file was printed by CPython 3.11 from the same LoraConfig fields.
            String expected = Files.readString(Path.of(Objects.requireNonNull(
                    getClass().getResource("/peft/adapter_config_expected.json")).toURI()), StandardCharsets.UTF_8).strip();
            assertEquals(expected, Files.readString(dir.resolve("adapter_config.json"), StandardCharsets.UTF_8));
            PeftAdapter.load(dir, other);
            assertEquals(m.adapters().keySet(), other.adapters().keySet());
            for (String key : m.adapters().keySet()) {
                LoraLinear x = m.adapters().get(key);
                LoraLinear y = other.adapters().get(key);
                assertArrayEquals(x.loraA().value().toFloatArray(), y.loraA().value().toFloatArray());
                assertArrayEquals(x.loraB().value().toFloatArray(), y.loraB().value().toFloatArray());
                assertEquals(x.scaling(), y.scaling());
            }
        }
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.toString().endsWith(".tmp")));
        }
    }

    @Test
    void aMismatchedAdapterIsNamed() throws Exception {
        LlamaConfig small = new LlamaConfig(16, 1, 2, 1, 24, 32, 10000.0, 1e-5f, false);
        LlamaConfig wide = new LlamaConfig(32, 1, 2, 1, 24, 32, 10000.0, 1e-5f, false);
        try (LlamaModel m = LlamaModel.random(small, 1, BaseFormat.F32); LlamaModel w = LlamaModel.random(wide, 1, BaseFormat.F32)) {
            m.attachLora(Set.of("q_proj"), 2, 4, false, 1);
            PeftAdapter.save(dir, m, "x");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PeftAdapter.load(dir, w));
            assertTrue(e.getMessage().contains("q_proj.lora_A.weight") && e.getMessage().contains("expected"), e.getMessage());
        }
    }

    @Test
    void adapterFeaturesThatAreNotImplementedAreRefusedByName() throws Exception {
        LlamaConfig c = new LlamaConfig(16, 2, 2, 1, 24, 32, 10000.0, 1e-5f, false);
        try (LlamaModel m = LlamaModel.random(c, 1, BaseFormat.NF4)) {
            m.attachLora(Set.of("q_proj", "v_proj"), 4, 16, false, 7);
            PeftAdapter.save(dir, m, "tiny-llama");
        }
        String saved = Files.readString(dir.resolve("adapter_config.json"), StandardCharsets.UTF_8);
        // Each edit sets one key the way a PEFT feature qlora4j does not implement would write it.
        Map<String, String[]> edits = new java.util.LinkedHashMap<>();
        edits.put("use_dora", new String[]{"\"use_dora\": false", "\"use_dora\": true"});
        edits.put("bias", new String[]{"\"bias\": \"none\"", "\"bias\": \"lora_only\""});
        edits.put("modules_to_save", new String[]{"\"modules_to_save\": null", "\"modules_to_save\": [\"lm_head\"]"});
        edits.put("layers_to_transform", new String[]{"\"layers_to_transform\": null", "\"layers_to_transform\": [0]"});
        edits.put("rank_pattern", new String[]{"\"rank_pattern\": {}", "\"rank_pattern\": {\"q_proj\": 8}"});
        edits.put("alpha_pattern", new String[]{"\"alpha_pattern\": {}", "\"alpha_pattern\": {\"v_proj\": 32}"});
        edits.put("fan_in_fan_out", new String[]{"\"fan_in_fan_out\": false", "\"fan_in_fan_out\": true"});
        edits.put("lora_bias", new String[]{"{", "{\n  \"lora_bias\": true,"});
        edits.put("target_modules", new String[]{"\"target_modules\": [", "\"target_modules\": \"q_proj|v_proj\", \"x\": ["});
        for (Map.Entry<String, String[]> e : edits.entrySet()) {
            assertTrue(saved.contains(e.getValue()[0]), e.getKey() + " in " + saved);
            Files.writeString(dir.resolve("adapter_config.json"), saved.replaceFirst(
                    java.util.regex.Pattern.quote(e.getValue()[0]), java.util.regex.Matcher.quoteReplacement(e.getValue()[1])));
            try (LlamaModel fresh = LlamaModel.random(c, 2, BaseFormat.NF4)) {
                IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> PeftAdapter.load(dir, fresh));
                assertTrue(x.getMessage().contains("\"" + e.getKey() + "\" is ") && x.getMessage().contains("qlora4j implements only"),
                        e.getKey() + ": " + x.getMessage());
                assertTrue(fresh.adapters().isEmpty(), "nothing attached before the refusal");
            }
        }
    }
}
