package dev.qlora4j.autograd.llama;

import dev.qlora4j.autograd.Rotary;
import dev.qlora4j.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** config.json fields that change the math: read as transformers reads them, or refused by name. */
class HfConfigTest {
    @TempDir
    Path dir;

    private static final String BASE = """
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 32, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 48, "vocab_size": 61,
             "max_position_embeddings": 2048, "rope_theta": 500000.0, "rms_norm_eps": 1e-5, "tie_word_embeddings": false}""";

    private LlamaConfig read(String... extra) throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        ((Map<?, ?>) Json.parse(BASE)).forEach((k, v) -> m.put((String) k, v));
        for (int i = 0; i < extra.length; i += 2) {
            m.put(extra[i], Json.parse(extra[i + 1]));
        }
        return HfConfig.parse(dir.resolve("config.json"), m);
    }

    private void refused(String key, String... extra) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> read(extra));
        assertTrue(e.getMessage().contains("\"" + key + "\""), key + ": " + e.getMessage());
    }

    @Test
    void ropeScalingSpellingsAllRead() throws Exception {
        Rotary llama3 = read("rope_scaling", """
                {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                 "original_max_position_embeddings": 8192}""").rotary();
        assertEquals(new Rotary(500000.0, Rotary.Type.LLAMA3, 8, 1, 4, 8192), llama3);
        assertEquals(Rotary.Type.LINEAR, read("rope_scaling", "{\"type\": \"linear\", \"factor\": 2.0}").rotary().type());
        Rotary dynamic = read("rope_scaling", "{\"rope_type\": \"dynamic\", \"factor\": 2.0}").rotary();
        assertEquals(new Rotary(500000.0, Rotary.Type.DYNAMIC, 2, 0, 0, 2048), dynamic);
        Rotary v5 = read("rope_parameters", "{\"rope_type\": \"default\", \"rope_theta\": 1000.0}").rotary();
        assertEquals(Rotary.plain(1000.0), v5);
    }

    @Test
    void unimplementedFieldsAreRefusedNamingTheKey() {
        refused("model_type", "model_type", "\"gpt2\"");
        refused("architectures", "architectures", "[\"GPT2LMHeadModel\"]");
        refused("hidden_act", "hidden_act", "\"gelu\"");
        refused("rope_scaling.rope_type", "rope_scaling", "{\"rope_type\": \"yarn\", \"factor\": 4.0}");
        refused("rope_scaling.type", "rope_scaling", "{\"type\": \"longrope\", \"factor\": 4.0}");
        refused("rope_scaling.factor", "rope_scaling", "{\"rope_type\": \"linear\"}");
        refused("attention_bias", "attention_bias", "\"yes\"");
        refused("attention_dropout", "attention_dropout", "0.1");
    }

    @Test
    void absurdSizesAreRefusedWithTheArithmetic() {
        refused("vocab_size", "vocab_size", "2147483648");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> read("vocab_size", "200000000", "hidden_size", "4096", "num_attention_heads", "32"));
        assertTrue(e.getMessage().contains("vocab 200000000 × hidden 4096 = 819200000000 elements"), e.getMessage());
        refused("head_dim", "head_dim", "0");
    }

    @Test
    void biasesHeadDimAndWindowsAreRead() throws Exception {
        LlamaConfig llama = read("attention_bias", "true", "mlp_bias", "true", "head_dim", "12");
        assertTrue(llama.qkvBias() && llama.outputBias() && llama.mlpBias());
        assertEquals(12, llama.headDim());
        assertEquals(48, llama.linearShape("q_proj")[0]);
        LlamaConfig qwen2 = read("model_type", "\"qwen2\"", "architectures", "[\"Qwen2ForCausalLM\"]");
        assertTrue(qwen2.qkvBias() && !qwen2.outputBias() && !qwen2.mlpBias());
        LlamaConfig mistral = read("model_type", "\"mistral\"", "architectures", "[\"MistralForCausalLM\"]", "sliding_window", "64");
        assertEquals(64, mistral.slidingWindow());
        LlamaConfig wide = read("model_type", "\"mistral\"", "sliding_window", "4096");
        assertEquals(0, wide.slidingWindow(), "a window as long as the context changes nothing");
    }

    @Test
    void configWrittenForAModelReadsBackTheSame() throws Exception {
        for (LlamaConfig c : new LlamaConfig[]{LlamaConfig.LLAMA31_8B, LlamaConfig.LLAMA32_1B, read("model_type", "\"qwen2\""),
                read("model_type", "\"mistral\"", "sliding_window", "64"), read("attention_bias", "true", "mlp_bias", "true")}) {
            Path file = dir.resolve("written.json");
            Files.writeString(file, HfConfigWriter.json(c, "float32"));
            assertEquals(c, HfConfig.read(file));
        }
    }
}
