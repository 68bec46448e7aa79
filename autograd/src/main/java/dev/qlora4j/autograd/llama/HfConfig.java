package dev.qlora4j.autograd.llama;

import dev.qlora4j.autograd.Rotary;
import dev.qlora4j.json.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Hugging Face config.json read as transformers reads it for the Llama-shaped architectures —
 * Llama, Mistral, Qwen2 — with every field that changes the math either implemented or refused at
 * load in one line naming the key and its value: rope scaling (llama3, linear, dynamic; the
 * {@code rope_type} and legacy {@code type} keys, and transformers v5's {@code rope_parameters}),
 * {@code head_dim}, attention and MLP biases, tied embeddings, {@code hidden_act},
 * {@code max_position_embeddings} and sliding windows.
 */
final class HfConfig {
    private static final Set<String> MODEL_TYPES = Set.of("llama", "mistral", "qwen2");
    private static final Set<String> ARCHITECTURES = Set.of("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM");

    private HfConfig() {
    }

    static LlamaConfig read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + ": no such file; expected a Hugging Face model folder with config.json");
        }
        if (!(Json.parse(file) instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException(file + ": expected a JSON object");
        }
        return parse(file, m);
    }

    static LlamaConfig parse(Path file, Map<?, ?> m) {
        String modelType = m.get("model_type") instanceof String s ? s : "llama";
        if (!MODEL_TYPES.contains(modelType)) {
            throw refuse(file, "model_type", m.get("model_type"), "one of " + MODEL_TYPES);
        }
        if (m.get("architectures") instanceof List<?> archs) {
            for (Object a : archs) {
                if (!ARCHITECTURES.contains(a)) {
                    throw refuse(file, "architectures", archs, "one of " + ARCHITECTURES);
                }
            }
        }
        Object act = m.containsKey("hidden_act") ? m.get("hidden_act") : "silu";
        if (!"silu".equals(act) && !"swish".equals(act)) {
            throw refuse(file, "hidden_act", act, "\"silu\" (SwiGLU)");
        }
        // Dropout on the attention probabilities changes what training computes; qlora4j has none.
        if (m.get("attention_dropout") instanceof Number d && d.doubleValue() != 0) {
            throw refuse(file, "attention_dropout", d, "0.0 (no dropout on attention probabilities)");
        }
        int hidden = integer(file, m, "hidden_size", null);
        int heads = integer(file, m, "num_attention_heads", null);
        int kvHeads = integer(file, m, "num_key_value_heads", heads);
        Object hd = m.get("head_dim");
        int headDim;
        if (hd == null) {
            if (hidden % heads != 0) {
                throw new IllegalArgumentException(file + ": hidden_size " + hidden + " is not a multiple of num_attention_heads "
                        + heads + " and there is no head_dim");
            }
            headDim = hidden / heads;
        } else {
            headDim = integer(file, m, "head_dim", null);
        }
        int maxPositions = integer(file, m, "max_position_embeddings", LlamaConfig.DEFAULT_MAX_POSITIONS);
        boolean attentionBias = bool(file, m, "attention_bias", false);
        boolean qwen2 = modelType.equals("qwen2");
        // Qwen2 always biases q, k and v and never o; Llama's attention_bias covers all four.
        boolean qkvBias = qwen2 || attentionBias;
        boolean outputBias = !qwen2 && attentionBias;
        boolean mlpBias = bool(file, m, "mlp_bias", false);
        int slidingWindow = slidingWindow(file, m, modelType, maxPositions);
        int layers = integer(file, m, "num_hidden_layers", null);
        int intermediate = integer(file, m, "intermediate_size", null);
        int vocab = integer(file, m, "vocab_size", null);
        float eps = (float) number(file, m, "rms_norm_eps", 1e-6);
        boolean tied = bool(file, m, "tie_word_embeddings", false);
        Rotary rotary = rotary(file, m, maxPositions);
        try {
            return new LlamaConfig(hidden, layers, heads, kvHeads, intermediate, vocab, eps, tied, headDim,
                    rotary, maxPositions, qkvBias, outputBias, mlpBias, slidingWindow);
        } catch (IllegalArgumentException e) {
            // The sizes were each valid alone; the relation between them is not. Name the file they came from.
            throw new IllegalArgumentException(file + ": " + e.getMessage().replaceFirst("^Llama config: ", ""), e);
        }
    }

    /** Mistral's window (when it is shorter than the model's context), or Qwen2's when switched on; else 0. */
    private static int slidingWindow(Path file, Map<?, ?> m, String modelType, int maxPositions) {
        Object w = m.get("sliding_window");
        if (w == null || modelType.equals("llama")) {
            return 0;
        }
        if (modelType.equals("qwen2") && !bool(file, m, "use_sliding_window", false)) {
            return 0;
        }
        int window = integer(file, m, "sliding_window", null);
        return window >= maxPositions ? 0 : window;
    }

    /** The rotary embedding from rope_theta and rope_scaling (or v5's rope_parameters, which may hold the theta). */
    private static Rotary rotary(Path file, Map<?, ?> m, int maxPositions) {
        Object scaling = m.get("rope_parameters") != null ? m.get("rope_parameters") : m.get("rope_scaling");
        String key = m.get("rope_parameters") != null ? "rope_parameters" : "rope_scaling";
        double theta = number(file, m, "rope_theta", 10000.0);
        if (scaling == null) {
            return Rotary.plain(theta);
        }
        if (!(scaling instanceof Map<?, ?> s)) {
            throw refuse(file, key, scaling, "an object or null");
        }
        if (s.get("rope_theta") instanceof Number n) {
            theta = n.doubleValue();
        }
        Object type = s.containsKey("rope_type") ? s.get("rope_type") : s.get("type");
        String where = key + "." + (s.containsKey("rope_type") ? "rope_type" : "type");
        if (type == null || "default".equals(type)) {
            return Rotary.plain(theta);
        }
        Rotary.Type t = switch (String.valueOf(type)) {
            case "linear" -> Rotary.Type.LINEAR;
            case "dynamic" -> Rotary.Type.DYNAMIC;
            case "llama3" -> Rotary.Type.LLAMA3;
            default -> throw refuse(file, where, type, "\"default\", \"linear\", \"dynamic\" or \"llama3\"");
        };
        double factor = number(file, s, "factor", Double.NaN);
        if (Double.isNaN(factor)) {
            throw refuse(file, key + ".factor", null, "a number for rope type " + type);
        }
        if (t == Rotary.Type.LLAMA3) {
            return new Rotary(theta, t, factor, number(file, s, "low_freq_factor", 1.0), number(file, s, "high_freq_factor", 4.0),
                    integer(file, s, "original_max_position_embeddings", null));
        }
        return new Rotary(theta, t, factor, 0, 0, t == Rotary.Type.DYNAMIC ? maxPositions : 0);
    }

    private static IllegalArgumentException refuse(Path file, String key, Object value, String expected) {
        return new IllegalArgumentException(file + ": \"" + key + "\" is " + Json.render(value, 120)
                + "; qlora4j implements " + expected);
    }

    private static int integer(Path file, Map<?, ?> m, String key, Integer fallback) {
        Object v = m.get(key);
        if (v == null && fallback != null) {
            return fallback;
        }
        if (v instanceof Long n && n > 0 && n <= Integer.MAX_VALUE) {
            return n.intValue();
        }
        throw new IllegalArgumentException(file + ": \"" + key + "\" is " + Json.render(v, 60)
                + "; expected a whole number in [1, " + Integer.MAX_VALUE + "]");
    }

    private static double number(Path file, Map<?, ?> m, String key, double fallback) {
        Object v = m.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Number n && Double.isFinite(n.doubleValue())) {
            return n.doubleValue();
        }
        throw new IllegalArgumentException(file + ": \"" + key + "\" is " + Json.render(v, 60) + "; expected a number");
    }

    private static boolean bool(Path file, Map<?, ?> m, String key, boolean fallback) {
        Object v = m.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        throw new IllegalArgumentException(file + ": \"" + key + "\" is " + Json.render(v, 60) + "; expected true or false");
    }
}
