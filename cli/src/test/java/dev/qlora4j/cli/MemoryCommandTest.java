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
    void theDemoStepsMeasuredPeakIsPrintedBesideTheCount() {
        // CpuStepPeakTest checks the count over more shapes; here, that the command runs the step it counts.
        CommandRun r = CommandRun.of("memory", "--model", "demo", "--rank", "8", "--batch", "4", "--seq", "200",
                "--targets", "all-linear", "--gradient-checkpointing", "--offload-checkpoints", "--loss-chunk", "1");
        assertEquals(0, r.status(), r.err());
        Matcher m = Pattern.compile("measured on the demo model \\(random weights\\) on the CPU: peak [0-9.]+ [KM]iB "
                + "\\(([+-][0-9.]+)% vs the count above\\)").matcher(r.out());
        assertTrue(m.find(), r.out());
        assertTrue(Math.abs(Double.parseDouble(m.group(1))) < 5, r.out());
        CommandRun qv = CommandRun.of("memory", "--model", "demo", "--rank", "8", "--batch", "8", "--seq", "48");
        // 2 layers × r 8 × ((128 + 128) + (128 + 64)) on q and v = 7,168 adapter parameters.
        assertTrue(qv.out().contains("(7,168 parameters)"), qv.out());
    }

    @Test
    void badStepOptionsAreRefusedNamingTheFlag() {
        CommandRun offload = CommandRun.of("memory", "--model", "7b", "--offload-checkpoints");
        assertEquals(2, offload.status());
        assertTrue(offload.err().contains("--offload-checkpoints: there is nothing to offload without --gradient-checkpointing"),
                offload.err());
        CommandRun chunk = CommandRun.of("memory", "--model", "7b", "--loss-chunk", "0");
        assertEquals(2, chunk.status());
        assertTrue(chunk.err().contains("--loss-chunk"), chunk.err());
        CommandRun dtype = CommandRun.of("memory", "--model", "7b", "--gradient-checkpointing", "--checkpoint-dtype", "fp8");
        assertEquals(2, dtype.status());
        assertTrue(dtype.err().contains("--checkpoint-dtype fp8: expected f32 or bf16") && dtype.out().isEmpty(), dtype.err());
        CommandRun bf16 = CommandRun.of("memory", "--model", "7b", "--checkpoint-dtype", "bf16");
        assertEquals(2, bf16.status());
        assertTrue(bf16.err().contains("without --gradient-checkpointing"), bf16.err());
        // Llama 2 7B was trained on 4,096 positions.
        CommandRun seq = CommandRun.of("memory", "--model", "7b", "--seq", "4097");
        assertEquals(2, seq.status());
        assertTrue(seq.err().contains("--seq 4097: longer than Llama 2 7B's context of 4096 positions"), seq.err());
    }

    @Test
    void llama31EightBWithEveryLinearLayerAt2048TokensFitsSixGibOnAGpu() {
        CommandRun r = CommandRun.of("memory", "--seq", "2048", "--targets", "all-linear", "--gradient-checkpointing",
                "--offload-checkpoints");
        assertEquals(0, r.status(), r.err());
        Matcher m = Pattern.compile("peak on a GPU +([0-9.]+) GiB").matcher(r.out());
        assertTrue(m.find(), r.out());
        assertTrue(Double.parseDouble(m.group(1)) <= 6.0, r.out());
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
