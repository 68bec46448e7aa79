package dev.qlora4j.autograd.llama;

import dev.qlora4j.autograd.AdamW;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model, adapter or checkpoint folder with one thing wrong is refused with a message that names
 * the file and says what is wrong with it, not only a path or a Java exception's text.
 */
class BadFolderMessagesTest {
    @TempDir
    Path dir;

    private static final LlamaConfig SMALL = new LlamaConfig(16, 1, 2, 1, 24, 32, 10000.0, 1e-5f, false);

    private Path modelCopy() throws Exception {
        Path src = HfVariantsTest.resource("llama2");
        Path out = Files.createDirectories(dir.resolve("model"));
        Files.copy(src.resolve("config.json"), out.resolve("config.json"));
        Files.copy(src.resolve("model.safetensors"), out.resolve("model.safetensors"));
        return out;
    }

    private static String loadFailure(Path model) {
        return assertThrows(IllegalArgumentException.class, () -> LlamaModel.load(model, BaseFormat.F32)).getMessage();
    }

    @Test
    void sizesThatDoNotFitTogetherNameConfigJsonAndTheValuesRead() throws Exception {
        Path model = modelCopy();
        Path config = model.resolve("config.json");
        String json = Files.readString(config);
        assertTrue(json.contains("\"num_key_value_heads\": 4"), json);
        Files.writeString(config, json.replace("\"num_key_value_heads\": 4", "\"num_key_value_heads\": 3"));
        assertEquals(config + ": 4 heads, 3 key/value heads, head_dim 8; expected heads a multiple of the key/value heads "
                + "and an even head dimension", loadFailure(model));
        // Built directly, a config prints the sizes it was given, not the zeros of a half-built record.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new LlamaConfig(
                64, 0, 4, 4, 128, 100, 1e-5f, false, 16, dev.qlora4j.autograd.Rotary.plain(1e4), 2048, false, false, false, 0));
        assertTrue(e.getMessage().startsWith("Llama config: hidden 64, layers 0, heads 4, key/value heads 4, intermediate 128, "
                + "vocab 100, head_dim 16"), e.getMessage());
    }

    @Test
    void jsonErrorsNameTheirFile() throws Exception {
        Path model = modelCopy();
        Files.writeString(model.resolve("config.json"), "{\"hidden_size\": 32,, }");
        assertEquals(model.resolve("config.json") + ": not valid JSON: at byte 19: expected a string key in object, found ','",
                loadFailure(model));
    }

    @Test
    void anIndexNamingAMissingShardSaysSo() throws Exception {
        Path model = modelCopy();
        Files.move(model.resolve("model.safetensors"), model.resolve("model-00001-of-00002.safetensors"));
        Path index = model.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"weight_map\": {\"model.norm.weight\": \"model-00001-of-00002.safetensors\", "
                + "\"lm_head.weight\": \"model-00002-of-00002.safetensors\"}}");
        assertEquals(index + " puts lm_head.weight in \"model-00002-of-00002.safetensors\", which is not a file in " + model
                + "; is a shard missing from the download?", loadFailure(model));
        Files.writeString(index, "{\"weight_map\": {\"lm_head.weight\": 7}}");
        assertEquals(index + ": weight_map[\"lm_head.weight\"] is the number 7; expected the name of a .safetensors file",
                loadFailure(model));
        Files.writeString(index, "{\"weight_map\": [}");
        assertTrue(loadFailure(model).startsWith(index + ": not valid JSON: at byte 16: "));
    }

    @Test
    void anAdapterFolderSaysWhatItLacks() throws Exception {
        String expected = "; expected a PEFT adapter folder holding adapter_config.json and adapter_model.safetensors";
        Path adapter = dir.resolve("adapter");
        try (LlamaModel m = LlamaModel.random(SMALL, 1, BaseFormat.F32)) {
            assertEquals(adapter + ": no such folder" + expected,
                    assertThrows(IllegalArgumentException.class, () -> PeftAdapter.load(adapter, m)).getMessage());
            m.attachLora(Set.of("q_proj"), 2, 4, false, 1);
            PeftAdapter.save(adapter, m, "x");
        }
        Path config = adapter.resolve("adapter_config.json");
        Files.delete(adapter.resolve("adapter_model.safetensors"));
        Files.writeString(adapter.resolve("adapter_model.bin"), "pickle");
        try (LlamaModel m = LlamaModel.random(SMALL, 1, BaseFormat.F32)) {
            String message = assertThrows(IllegalArgumentException.class, () -> PeftAdapter.load(adapter, m)).getMessage();
            assertTrue(message.startsWith(adapter + ": no adapter_model.safetensors (adapter_model.bin is PyTorch's pickle format"),
                    message);
            Files.delete(config);
            assertEquals(adapter + ": no adapter_config.json" + expected,
                    assertThrows(IllegalArgumentException.class, () -> PeftAdapter.load(adapter, m)).getMessage());
            Path aFile = adapter.resolve("adapter_model.bin");
            assertEquals(aFile + ": a file, not a folder" + expected,
                    assertThrows(IllegalArgumentException.class, () -> PeftAdapter.load(aFile, m)).getMessage());
        }
    }

    @Test
    void anAdapterConfigWithBadValuesOrBadJsonIsNamed() throws Exception {
        Path adapter = dir.resolve("adapter");
        try (LlamaModel m = LlamaModel.random(SMALL, 1, BaseFormat.F32)) {
            m.attachLora(Set.of("q_proj"), 2, 4, false, 1);
            PeftAdapter.save(adapter, m, "x");
        }
        Path config = adapter.resolve("adapter_config.json");
        String saved = Files.readString(config);
        assertTrue(saved.contains("\"r\": 2,"), saved);
        try (LlamaModel m = LlamaModel.random(SMALL, 1, BaseFormat.F32)) {
            Files.writeString(config, saved.replace("\"r\": 2,", "\"r\": \"2\","));
            assertEquals(config + ": \"r\" is the string \"2\"; expected the LoRA rank, a whole number of at least 1",
                    assertThrows(IllegalArgumentException.class, () -> PeftAdapter.load(adapter, m)).getMessage());
            Files.writeString(config, "{\"r\": 8,");
            assertEquals(config + ": not valid JSON: at byte 8: expected a string key in object, found end of input",
                    assertThrows(IllegalArgumentException.class, () -> PeftAdapter.load(adapter, m)).getMessage());
        }
    }

    @Test
    void aLatestFileThatNamesNoCheckpointIsExplained() throws Exception {
        Path latest = dir.resolve("latest");
        Files.writeString(latest, "garbage\n");
        try (LlamaModel m = LlamaModel.random(SMALL, 1, BaseFormat.F32); AdamW opt = AdamW.withDefaults()) {
            m.attachLora(Set.of("q_proj"), 2, 4, false, 1);
            assertEquals(latest + " holds \"garbage\"; expected the name of a checkpoint folder, step-N (written by finetune --save-every)",
                    assertThrows(IllegalArgumentException.class, () -> TrainingCheckpoint.resume(dir, m, opt)).getMessage());
            Files.writeString(latest, "step-40\n");
            assertEquals(latest + " names step-40, which is not a folder in " + dir + "; the checkpoint was removed",
                    assertThrows(IllegalArgumentException.class, () -> TrainingCheckpoint.resume(dir, m, opt)).getMessage());
        }
    }
}
