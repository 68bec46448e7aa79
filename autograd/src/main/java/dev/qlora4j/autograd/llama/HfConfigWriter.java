package dev.qlora4j.autograd.llama;

import dev.qlora4j.autograd.Rotary;
import dev.qlora4j.json.Json;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link LlamaConfig} as the config.json transformers reads back to the same model: the Llama
 * architecture, or Qwen2's (q, k, v biased, o not) or Mistral's (a sliding window) where only those
 * spell the config, with every field {@link HfConfig} reads.
 */
final class HfConfigWriter {
    private HfConfigWriter() {
    }

    /** The JSON text, with {@code torchDtype} ("float32", "bfloat16", ...) as the weights' dtype. */
    static String json(LlamaConfig c, String torchDtype) {
        boolean qwen2 = c.qkvBias() && !c.outputBias();
        boolean mistral = c.slidingWindow() > 0;
        if ((qwen2 && (c.mlpBias() || mistral)) || (mistral && (c.qkvBias() || c.mlpBias()))) {
            throw new IllegalArgumentException("config.json: " + c + " combines biases and a sliding window as no one"
                    + " architecture does (Llama, Qwen2, Mistral)");
        }
        String arch = qwen2 ? "Qwen2ForCausalLM" : mistral ? "MistralForCausalLM" : "LlamaForCausalLM";
        String type = qwen2 ? "qwen2" : mistral ? "mistral" : "llama";
        List<String> f = new ArrayList<>();
        f.add(field("architectures", "[" + Json.quote(arch) + "]"));
        f.add(field("model_type", Json.quote(type)));
        f.add(field("hidden_size", c.hiddenSize()));
        f.add(field("num_hidden_layers", c.layers()));
        f.add(field("num_attention_heads", c.heads()));
        f.add(field("num_key_value_heads", c.kvHeads()));
        f.add(field("head_dim", c.headDim()));
        f.add(field("intermediate_size", c.intermediateSize()));
        f.add(field("vocab_size", c.vocabSize()));
        f.add(field("hidden_act", "\"silu\""));
        f.add(field("max_position_embeddings", c.maxPositions()));
        f.add(field("rope_theta", c.ropeTheta()));
        f.add(field("rope_scaling", ropeScaling(c.rotary())));
        f.add(field("rms_norm_eps", c.rmsEps()));
        f.add(field("tie_word_embeddings", c.tiedEmbeddings()));
        if (type.equals("llama")) {
            f.add(field("attention_bias", c.qkvBias()));
            f.add(field("mlp_bias", c.mlpBias()));
        }
        if (mistral) {
            f.add(field("sliding_window", c.slidingWindow()));
        }
        f.add(field("torch_dtype", Json.quote(torchDtype)));
        return "{\n" + String.join(",\n", f) + "\n}\n";
    }

    private static String ropeScaling(Rotary r) {
        return switch (r.type()) {
            case DEFAULT -> "null";
            case LINEAR -> "{\"rope_type\": \"linear\", \"factor\": " + r.factor() + "}";
            case DYNAMIC -> "{\"rope_type\": \"dynamic\", \"factor\": " + r.factor() + "}";
            case LLAMA3 -> "{\"rope_type\": \"llama3\", \"factor\": " + r.factor() + ", \"low_freq_factor\": "
                    + r.lowFreqFactor() + ", \"high_freq_factor\": " + r.highFreqFactor()
                    + ", \"original_max_position_embeddings\": " + r.originalMaxPositions() + "}";
        };
    }

    private static String field(String key, Object value) {
        return "  " + Json.quote(key) + ": " + value;
    }
}
