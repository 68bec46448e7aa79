package dev.qlora4j.cli;

import dev.qlora4j.autograd.llama.LlamaConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The {@code --model} option of the exercises: the demo model, a named preset (Llama 2 7B/13B/70B,
 * Llama 3.1 8B/70B, Llama 3.2 1B/3B, each with its published config), or a config.json.
 */
record ModelChoice(String name, LlamaConfig config, boolean isDemo) {
    static ModelChoice parse(String value) throws UsageException, IOException {
        return switch (value.toLowerCase(java.util.Locale.ROOT)) {
            case "demo" -> new ModelChoice("demo", DemoModel.CONFIG, true);
            case "7b" -> new ModelChoice("Llama 2 7B", LlamaConfig.LLAMA2_7B, false);
            case "13b" -> new ModelChoice("Llama 2 13B", LlamaConfig.LLAMA2_13B, false);
            case "70b" -> new ModelChoice("Llama 2 70B", LlamaConfig.LLAMA2_70B, false);
            case "llama3.1-8b" -> new ModelChoice("Llama 3.1 8B", LlamaConfig.LLAMA31_8B, false);
            case "llama3.1-70b" -> new ModelChoice("Llama 3.1 70B", LlamaConfig.LLAMA31_70B, false);
            case "llama3.2-1b" -> new ModelChoice("Llama 3.2 1B", LlamaConfig.LLAMA32_1B, false);
            case "llama3.2-3b" -> new ModelChoice("Llama 3.2 3B", LlamaConfig.LLAMA32_3B, false);
            default -> {
                Path p = Path.of(value);
                if (!Files.exists(p)) {
                    throw new UsageException("--model " + value + ": expected demo, 7b, 13b, 70b, llama3.1-8b, llama3.1-70b, llama3.2-1b, llama3.2-3b, or a config.json file or model folder");
                }
                yield new ModelChoice(p.toString(), LlamaConfig.read(p), false);
            }
        };
    }
}
