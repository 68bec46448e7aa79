package dev.qlora4j.json;

import dev.qlora4j.testkit.FuzzCampaign;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Mutated real-world JSON (a config.json, a quant_state, an adapter config) is read or refused with a JsonException. */
class JsonFuzzTest {
    private static final List<byte[]> SEEDS = List.of(
            """
            {"architectures": ["LlamaForCausalLM"], "hidden_size": 4096, "num_hidden_layers": 32,
             "rope_scaling": {"factor": 8.0, "rope_type": "llama3", "low_freq_factor": 1.0},
             "rms_norm_eps": 1e-05, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "eos_token_id": [128001, 128009]}
            """.getBytes(StandardCharsets.UTF_8),
            """
            {"quant_type": "nf4", "blocksize": 64, "dtype": "bfloat16", "shape": [4096, 4096], "nested_blocksize": 256,
             "nested_dtype": "float32", "nested_offset": 0.052064258605241776}
            """.getBytes(StandardCharsets.UTF_8),
            """
            {"peft_type": "LORA", "r": 16, "lora_alpha": 32, "target_modules": ["q_proj", "v_proj"], "bias": "none",
             "escapes": "tab\\t quote\\" \\u00e9 \\ud83d\\ude00 ▁Ġ", "nested": [[[{"a": null, "b": true}]]], "neg": -0.5e-3}
            """.getBytes(StandardCharsets.UTF_8));

    @Test
    void mutatedJsonIsReadOrRefusedWithAPosition() {
        FuzzCampaign.Outcome o = FuzzCampaign.run("json", SEEDS, Set.of(JsonException.class),
                FuzzCampaign.Limits.heap(200, 1 << 20), Json::parse);
        assertTrue(o.refused() > 0 && o.accepted() > 0, o.toString());
    }
}
