package dev.qlora4j.autograd.llama;

import dev.qlora4j.autograd.Tape;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.safetensors.SafetensorsFile;
import dev.qlora4j.engine.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loading Hugging Face folders: single file, shards, each base format, and bad folders. */
class HfCheckpointTest {
    @TempDir
    Path dir;

    private static float[] logits(LlamaModel m, Tensor ids) throws Exception {
        try (Scope s = Scope.open(); AutoCloseable off = Tape.noGrad()) {
            return m.forward(ids).value().toFloatArray();
        }
    }

    @Test
    void aSavedFolderLoadsBackInEveryFormatAndFromShards() throws Exception {
        LlamaConfig c = new LlamaConfig(64, 2, 4, 2, 96, 50, 500000.0, 1e-5f, false);
        try (LlamaModel original = LlamaModel.random(c, 3, BaseFormat.F32);
             Tensor ids = Tensor.of(DType.I32, new float[]{1, 4, 9, 16, 25, 36, 49, 0}, 2, 4)) {
            Path single = dir.resolve("single");
            original.saveHf(single);
            float[] expected = logits(original, ids);
            try (LlamaModel f32 = LlamaModel.load(single, BaseFormat.F32)) {
                assertEquals(c, f32.config());
                assertArrayEquals(expected, logits(f32, ids));
            }
            for (BaseFormat format : new BaseFormat[]{BaseFormat.BF16, BaseFormat.INT8, BaseFormat.NF4}) {
                try (LlamaModel m = LlamaModel.load(single, format)) {
                    float[] got = logits(m, ids);
                    double err = 0;
                    double norm = 0;
                    for (int i = 0; i < got.length; i++) {
                        err += (got[i] - expected[i]) * (got[i] - expected[i]);
                        norm += expected[i] * expected[i];
                    }
                    // Quantization noise, not a wrong weight: relative error well below 1 (NF4's is the largest).
                    assertTrue(Math.sqrt(err / norm) < 0.25, format + ": relative logit error " + Math.sqrt(err / norm));
                    assertTrue(m.baseBytes() < original.baseBytes(), format + " is smaller than F32");
                }
            }
            // The same weights split over two shards with an index.
            Path sharded = dir.resolve("sharded");
            Files.createDirectories(sharded);
            Files.copy(single.resolve("config.json"), sharded.resolve("config.json"));
            Map<String, String> weightMap = new LinkedHashMap<>();
            try (SafetensorsFile f = SafetensorsFile.open(single.resolve("model.safetensors"))) {
                Map<String, Tensor> a = new LinkedHashMap<>();
                Map<String, Tensor> b = new LinkedHashMap<>();
                for (String n : f.names()) {
                    boolean first = n.startsWith("model.layers.0") || n.startsWith("model.embed");
                    (first ? a : b).put(n, f.tensor(n));
                    weightMap.put(n, first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
                }
                SafetensorsWriter.write(sharded.resolve("model-00001-of-00002.safetensors"), a);
                SafetensorsWriter.write(sharded.resolve("model-00002-of-00002.safetensors"), b);
                a.values().forEach(Tensor::close);
                b.values().forEach(Tensor::close);
            }
            StringBuilder json = new StringBuilder("{\"metadata\": {}, \"weight_map\": {");
            int i = 0;
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                json.append(i++ == 0 ? "" : ", ").append('"').append(e.getKey()).append("\": \"").append(e.getValue()).append('"');
            }
            Files.writeString(sharded.resolve("model.safetensors.index.json"), json.append("}}").toString());
            try (LlamaModel m = LlamaModel.load(sharded, BaseFormat.F32)) {
                assertArrayEquals(expected, logits(m, ids));
            }
        }
    }

    @Test
    void badFoldersAreNamed() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LlamaModel.load(dir, BaseFormat.NF4));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": 64, \"num_hidden_layers\": 1, \"num_attention_heads\": 4, "
                + "\"intermediate_size\": 8, \"vocab_size\": 10}");
        e = assertThrows(IllegalArgumentException.class, () -> LlamaModel.load(dir, BaseFormat.NF4));
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": \"big\"}");
        e = assertThrows(IllegalArgumentException.class, () -> LlamaModel.load(dir, BaseFormat.NF4));
        assertTrue(e.getMessage().contains("num_attention_heads") || e.getMessage().contains("hidden_size"), e.getMessage());
    }
}
