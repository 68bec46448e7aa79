package dev.qlora4j.autograd.llama;

import dev.qlora4j.json.Json;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The PEFT LoraConfig keys that change what an adapter computes, and the values qlora4j implements.
 * A loaded adapter whose config sets any of them otherwise is refused, naming the key and value,
 * rather than run as plain LoRA and give other numbers than PEFT. Keys that only shape
 * initialisation or training (lora_dropout, init_lora_weights, loftq_config, ...) are not here:
 * loading trained weights makes them moot.
 */
final class PeftFeatures {
    /** A key, what qlora4j accepts for it, and what the accepted values are, for the message. */
    private record Rule(String key, Predicate<Object> accepted, String expected) {
    }

    private static final Predicate<Object> ABSENT = v -> v == null || v instanceof Boolean b && !b
            || v instanceof List<?> l && l.isEmpty() || v instanceof Map<?, ?> m && m.isEmpty();

    private static final List<Rule> RULES = List.of(
            new Rule("use_dora", ABSENT, "false (DoRA's magnitude vector is not implemented)"),
            new Rule("bias", v -> v == null || "none".equals(v), "\"none\" (trained biases are not implemented)"),
            new Rule("lora_bias", ABSENT, "false (a bias on lora_B is not implemented)"),
            new Rule("modules_to_save", ABSENT, "null (fully trained extra modules are not implemented)"),
            new Rule("layers_to_transform", ABSENT, "null (adapters on every layer)"),
            new Rule("layers_pattern", ABSENT, "null"),
            new Rule("rank_pattern", ABSENT, "{} (one rank for every module)"),
            new Rule("alpha_pattern", ABSENT, "{} (one alpha for every module)"),
            new Rule("fan_in_fan_out", ABSENT, "false (weights stored [out, in], as Llama's are)"),
            new Rule("exclude_modules", ABSENT, "null"),
            new Rule("layer_replication", ABSENT, "null"),
            new Rule("trainable_token_indices", ABSENT, "null"),
            new Rule("target_parameters", ABSENT, "null"),
            new Rule("megatron_config", ABSENT, "null"),
            new Rule("use_qalora", ABSENT, "false"),
            new Rule("target_modules", v -> v instanceof List<?> l && l.stream().allMatch(LlamaModel.LINEAR_MODULES::contains),
                    "a list of module names among " + LlamaModel.LINEAR_MODULES + " (a regular expression is not implemented)"));

    private PeftFeatures() {
    }

    /** @throws IllegalArgumentException naming the first key whose value qlora4j does not implement */
    static void check(Path file, Map<?, ?> config) {
        for (Rule rule : RULES) {
            Object value = config.get(rule.key());
            if (!rule.accepted().test(value)) {
                throw new IllegalArgumentException(file + ": \"" + rule.key() + "\" is " + Json.render(value, 120)
                        + "; qlora4j implements only " + rule.expected());
            }
        }
    }
}
