package dev.qlora4j.autograd.llama;

import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.safetensors.SafetensorsFile;
import dev.qlora4j.engine.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A folder whose weights disagree with its config.json is refused before anything is computed. */
class LoadChecksTest {
    @TempDir
    Path dir;

    /** The llama2 variant's folder, with the weights passed through {@code edit}. */
    private Path folder(java.util.function.Consumer<Map<String, Tensor>> edit) throws Exception {
        Path src = HfVariantsTest.resource("llama2");
        Path out = Files.createDirectories(dir.resolve("model"));
        Files.copy(src.resolve("config.json"), out.resolve("config.json"));
        try (SafetensorsFile f = SafetensorsFile.open(src.resolve("model.safetensors"))) {
            Map<String, Tensor> all = new LinkedHashMap<>();
            for (String n : f.names()) {
                all.put(n, f.tensor(n));
            }
            edit.accept(all);
            SafetensorsWriter.write(out.resolve("model.safetensors"), all);
        }
        return out;
    }

    @Test
    void aWeightOfTheWrongShapeIsNamedWithTheArithmetic() throws Exception {
        Path model = folder(all -> all.put("model.layers.1.self_attn.q_proj.weight", Tensor.zeros(dev.qlora4j.engine.DType.F32, 8, 32)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LlamaModel.load(model, BaseFormat.F32));
        assertTrue(e.getMessage().contains("model.layers.1.self_attn.q_proj.weight: expected [32, 32] "
                + "(4 heads × head_dim 8 = 32, hidden 32), found [8, 32]"), e.getMessage());
    }

    @Test
    void aNanWeightIsRefusedNamingTheTensor() throws Exception {
        Path model = folder(all -> {
            float[] v = all.get("model.layers.1.mlp.down_proj.weight").toFloatArray();
            v[33] = Float.NaN;
            all.put("model.layers.1.mlp.down_proj.weight", Tensor.of(v, 32, 48));
        });
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LlamaModel.load(model, BaseFormat.NF4));
        assertTrue(e.getMessage().contains("\"model.layers.1.mlp.down_proj.weight\" holds 1 NaN or infinite value, the first at index 33"),
                e.getMessage());
    }

    @Test
    void missingWeightsAreListedByName() throws Exception {
        Path model = folder(all -> {
            all.remove("model.layers.0.mlp.up_proj.weight");
            all.remove("lm_head.weight");
        });
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LlamaModel.load(model, BaseFormat.F32));
        assertTrue(e.getMessage().contains("missing: model.layers.0.mlp.up_proj.weight, lm_head.weight"), e.getMessage());
    }

    @Test
    void anIntermediateSizeThatTheWeightsDoNotHaveIsRefused() throws Exception {
        Path model = folder(all -> { });
        Files.writeString(model.resolve("config.json"),
                Files.readString(model.resolve("config.json")).replace("\"intermediate_size\": 48", "\"intermediate_size\": 1000000"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LlamaModel.load(model, BaseFormat.F32));
        assertTrue(e.getMessage().contains("expected [1000000, 32] (intermediate 1000000, hidden 32), found [48, 32]"), e.getMessage());
    }

    @Test
    void aContextPastTheTrainedLengthOrTheWindowIsRefused() throws Exception {
        LlamaConfig c = new LlamaConfig(16, 1, 2, 1, 24, 32, 0.5f, false, 8, dev.qlora4j.autograd.Rotary.plain(10000), 8,
                false, false, false, 0);
        try (LlamaModel m = LlamaModel.random(c, 1, BaseFormat.F32); Tensor ids = Tensor.of(new int[12], 1, 12)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.forward(ids));
            assertTrue(e.getMessage().contains("max_position_embeddings 8"), e.getMessage());
            m.allowLongerContext(true);
            m.forward(ids).value().close();
        }
        LlamaConfig windowed = new LlamaConfig(16, 1, 2, 1, 24, 32, 0.5f, false, 8, dev.qlora4j.autograd.Rotary.plain(10000), 64,
                false, false, false, 6);
        try (LlamaModel m = LlamaModel.random(windowed, 1, BaseFormat.F32); Tensor ids = Tensor.of(new int[12], 1, 12)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.forward(ids));
            assertTrue(e.getMessage().contains("sliding_window 6"), e.getMessage());
        }
    }

    @Test
    void aModelThatDoesNotFitIsRefusedBeforeReadingNamingAFormatThatFits() throws Exception {
        // Llama 3.1 8B: 6.98 G linear parameters and 1.05 G dense ones (two 128256 × 4096 tables), in F32
        // under an F32 base (4.2 GB) and in BF16 under any other (2.1 GB). In F32 that is about 32 GB,
        // BF16 16 GB, INT8 9.3 GB = 8.7 GiB; NF4 without double quant (4.5 bits) about 6.3 GB = 5.8 GiB:
        // with 8 GiB available, the first that fits.
        LlamaConfig c = LlamaConfig.LLAMA31_8B;
        assertTrue(ModelMemory.bytesNeeded(c, BaseFormat.F32) >= 4 * (c.linearParameters() + c.denseParameters()));
        String before = System.getProperty(ModelMemory.AVAILABLE_PROPERTY);
        System.setProperty(ModelMemory.AVAILABLE_PROPERTY, Long.toString(8L << 30));
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> ModelMemory.require(dir, c, BaseFormat.F32));
            assertTrue(e.getMessage().matches(".*as f32 needs 3[0-9]\\.[0-9]{2} GiB of memory, and 8\\.00 GiB is available; "
                    + "--base-format nf4-no-dq needs 5\\.[0-9]{2} GiB"), e.getMessage());
            System.setProperty(ModelMemory.AVAILABLE_PROPERTY, Long.toString(1L << 30));
            IllegalStateException none = assertThrows(IllegalStateException.class, () -> ModelMemory.require(dir, c, BaseFormat.NF4));
            assertTrue(none.getMessage().contains("no base format fits"), none.getMessage());
            // A model folder is refused the same way before anything is read.
            System.setProperty(ModelMemory.AVAILABLE_PROPERTY, "1000");
            Path model = HfVariantsTest.resource("llama2");
            IllegalStateException folder = assertThrows(IllegalStateException.class, () -> LlamaModel.load(model, BaseFormat.F32));
            assertTrue(folder.getMessage().contains("KiB is available"), folder.getMessage());
        } finally {
            if (before == null) {
                System.clearProperty(ModelMemory.AVAILABLE_PROPERTY);
            } else {
                System.setProperty(ModelMemory.AVAILABLE_PROPERTY, before);
            }
        }
    }
}
