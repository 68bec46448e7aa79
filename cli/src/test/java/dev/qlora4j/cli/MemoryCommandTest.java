package dev.qlora4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code qlora4j memory}: published parameter counts, the bnb byte rules, and the demo's measured step. */
class MemoryCommandTest {
    @TempDir
    Path dir;

    @Test
    void llama2SevenBCountsAndFootprints() {
        CommandRun r = CommandRun.of("memory", "--model", "7b");
        assertEquals(0, r.status(), r.err());
        // Meta's Llama 2 7B has 6,738,415,616 parameters (the Hugging Face model's num_parameters()).
        assertTrue(r.out().contains("6,738,415,616 parameters"), r.out());
        // NF4: n/2 packed bytes + one F32 absmax per 64 weights = 4.5 bits; double quant: 8 bits per 64
        // plus an F32 per 256 blocks = 4.127 bits, to three places, at 7B's shapes.
        assertTrue(r.out().matches("(?s).*\\nNF4 +[0-9.]+ GiB +4\\.500 .*"), r.out());
        assertTrue(r.out().matches("(?s).*\\nNF4 \\+ double quant +[0-9.]+ GiB +4\\.127 .*"), r.out());
        // transformers counts 6,476,005,376 / 2 bytes of packed 4-bit weights = 3.02 GiB.
        assertTrue(r.out().matches("(?s).*\\nNF4 \\+ double quant +[0-9.]+ GiB +4\\.127 +3\\.02 GiB.*"), r.out());
        assertTrue(r.out().contains("8,655,936 bytes = 4.127 bits per parameter"), r.out());
    }

    @Test
    void aRankPastAModulesSmallerSideIsRefusedAsFinetuneRefusesIt() {
        // Llama 2 7B's q_proj is [4096, 4096]: rank 4096 is the most a LoRA of it can use.
        assertEquals(0, CommandRun.of("memory", "--model", "7b", "--rank", "4096").status());
        CommandRun r = CommandRun.of("memory", "--model", "7b", "--rank", "100000");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("LoRA rank 100000 on q_proj [4096, 4096]: expected 1..4096"), r.err());
    }

    @Test
    void llama3PresetsHaveTheirPublishedParameterCounts() {
        // The model cards' parameter counts: Llama 3.1 8B and 70B (untied), Llama 3.2 1B and 3B (tied).
        CommandRun byDefault = CommandRun.of("memory");
        assertEquals(0, byDefault.status(), byDefault.err());
        assertTrue(byDefault.out().contains("Llama 3.1 8B: 8,030,261,248 parameters"), byDefault.out());
        Map<String, String> published = Map.of("llama3.1-70b", "70,553,706,496", "llama3.2-1b", "1,235,814,400",
                "llama3.2-3b", "3,212,749,824");
        published.forEach((name, count) -> {
            CommandRun r = CommandRun.of("memory", "--model", name);
            assertEquals(0, r.status(), r.err());
            assertTrue(r.out().contains(count + " parameters"), name + ": " + r.out());
        });
    }

    @Test
    void theStepEstimateMatchesWhatTheDemoModelAllocates() {
        // The count is the sum of the forward's outputs; the measurement rounds each allocation up to the
        // allocator's size class, which a long sequence's large tensors feel most.
        for (String[] shape : new String[][]{{"8", "48", "1"}, {"1", "512", "1"}, {"4", "200", "5"}}) {
            CommandRun r = CommandRun.of("memory", "--model", "demo", "--rank", "8", "--batch", shape[0], "--seq", shape[1]);
            assertEquals(0, r.status(), r.err());
            Matcher m = Pattern.compile("activations [0-9.]+ [KM]iB \\(([+-][0-9.]+)% vs the count above\\)").matcher(r.out());
            assertTrue(m.find(), r.out());
            double off = Double.parseDouble(m.group(1));
            assertTrue(off >= 0 && off < Double.parseDouble(shape[2]), shape[0] + " x " + shape[1] + ": " + r.out());
        }
        CommandRun r = CommandRun.of("memory", "--model", "demo", "--rank", "8", "--batch", "8", "--seq", "48");
        // 2 layers × r 8 × ((128 + 128) + (128 + 64)) on q and v = 7,168 adapter parameters.
        assertTrue(r.out().contains("(7,168 parameters)"), r.out());
    }

    @Test
    void aConfigFileIsReadAndBadModelsAreRefused() throws Exception {
        Path config = dir.resolve("tiny.json");
        Files.writeString(config, """
                {"hidden_size": 256, "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2,
                 "intermediate_size": 512, "vocab_size": 1000}""");
        CommandRun r = CommandRun.of("memory", "--model", config.toString());
        assertEquals(0, r.status(), r.err());
        // 3 × (2·256² + 2·128·256 + 3·256·512) linear + 2·1000·256 + 7·256 dense = 1,769,472 + 513,792.
        assertTrue(r.out().contains("2,283,264 parameters, 1,769,472 of them"), r.out());
        CommandRun bad = CommandRun.of("memory", "--model", dir.resolve("missing.json").toString());
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("expected demo, 7b, 13b, 70b"), bad.err());
    }
}
