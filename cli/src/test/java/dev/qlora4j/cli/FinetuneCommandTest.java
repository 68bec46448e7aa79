package dev.qlora4j.cli;

import dev.qlora4j.json.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * finetune and generate on a real folder: the demo's copy-trained base with its tokenizer.json, a
 * JSONL file of shift examples, greedy generation with the adapter, and resuming.
 */
class FinetuneCommandTest {
    @TempDir
    static Path dir;
    static Path base;
    static Path data;

    @BeforeAll
    static void baseAndData() throws Exception {
        base = FinetuneFixtures.base(dir, 100, 11);
        data = FinetuneFixtures.shiftData(dir, 192);
    }

    @Test
    void anAdapterFineTunedFromJsonlShiftsHeldOutWordsWhenGenerating() throws Exception {
        Path out = dir.resolve("adapter");
        CommandRun ft = CommandRun.of("finetune", "--model", base.toString(), "--data", data.toString(), "--out", out.toString(),
                "--batch", "32", "--steps", "90", "--lr", "1e-2", "--save-every", "1000");
        assertEquals(0, ft.status(), ft.out() + ft.err());
        assertTrue(ft.out().contains("192 examples") && ft.out().contains("90/90"), ft.out());
        Map<?, ?> config = (Map<?, ?>) Json.parse(Files.readString(out.resolve("adapter_config.json")));
        assertEquals(List.of("q_proj", "v_proj"), config.get("target_modules"));

        int right = 0;
        List<String> words = DemoTask.heldOutWords(5, 3);
        for (String w : words) {
            CommandRun g = CommandRun.of("generate", "--model", base.toString(), "--adapter", out.toString(), "--prompt",
                    DemoTask.prompt(DemoTask.Kind.SHIFT, w), "--temperature", "0", "--stop", ".");
            assertEquals(0, g.status(), g.err());
            right += g.out().strip().equals(DemoTask.example(DemoTask.Kind.SHIFT, w)) ? 1 : 0;
        }
        assertTrue(right >= 4, right + " of 5 held-out words shifted");
        CommandRun plain = CommandRun.of("generate", "--model", base.toString(), "--prompt", DemoTask.prompt(DemoTask.Kind.COPY, words.get(0)),
                "--temperature", "0", "--max-tokens", "7");
        assertEquals(DemoTask.example(DemoTask.Kind.COPY, words.get(0)), plain.out().strip(), "the base alone copies");
    }

    @Test
    void aResumedRunEndsWithTheSameAdapterAsAnUninterruptedOne() throws Exception {
        Path out = dir.resolve("resume");
        String[] run = {"finetune", "--model", base.toString(), "--data", data.toString(), "--out", out.toString(),
                "--batch", "16", "--steps", "12", "--lr", "5e-3", "--save-every", "5", "--seed", "4"};
        assertEquals(0, CommandRun.of(run).status());
        byte[] uninterrupted = Files.readAllBytes(out.resolve("adapter_model.safetensors"));
        // The newest checkpoint is step 10: resuming replays steps 11 and 12 from its state.
        String[] resume = with(run, "--resume");
        CommandRun r = CommandRun.of(resume);
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("resumed from step 10"), r.out());
        assertArrayEquals(uninterrupted, Files.readAllBytes(out.resolve("adapter_model.safetensors")));
    }

    @Test
    void gradientCheckpointingWritesTheSameAdapterBytes() throws Exception {
        String[] plain = {"finetune", "--model", base.toString(), "--data", data.toString(), "--out", dir.resolve("plain").toString(),
                "--batch", "16", "--steps", "6", "--lr", "5e-3", "--save-every", "1000", "--seed", "2"};
        assertEquals(0, CommandRun.of(plain).status());
        String[] checkpointed = with(plain, "--gradient-checkpointing");
        checkpointed[java.util.Arrays.asList(checkpointed).indexOf("--out") + 1] = dir.resolve("checkpointed").toString();
        CommandRun r = CommandRun.of(checkpointed);
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("gradient checkpointing: on"), r.out());
        assertArrayEquals(Files.readAllBytes(dir.resolve("plain").resolve("adapter_model.safetensors")),
                Files.readAllBytes(dir.resolve("checkpointed").resolve("adapter_model.safetensors")));
        String[] both = with(checkpointed, "--no-gradient-checkpointing");
        assertEquals(2, CommandRun.of(both).status());
        // The run ends with its allocator's peak, and the checkpointed one needs less.
        assertTrue(peak(r.out()) < peak(CommandRun.of(with(plain, "--overwrite")).out()), r.out());
        CommandRun offloadAlone = CommandRun.of(with(with(plain, "--no-gradient-checkpointing"), "--offload-checkpoints"));
        assertEquals(2, offloadAlone.status());
        assertTrue(offloadAlone.err().contains("--offload-checkpoints: there is nothing to offload"), offloadAlone.err());
        // BF16 layer inputs: a run that recomputes from rounded inputs, and is refused without checkpointing.
        String[] bf16 = with(checkpointed, "--checkpoint-dtype", "bf16", "--overwrite");
        CommandRun rounded = CommandRun.of(bf16);
        assertEquals(0, rounded.status(), rounded.err());
        CommandRun bf16Alone = CommandRun.of(with(plain, "--checkpoint-dtype", "bf16", "--overwrite"));
        assertEquals(2, bf16Alone.status());
        assertTrue(bf16Alone.err().contains("--checkpoint-dtype bf16: there are no checkpointed layer inputs"), bf16Alone.err());
        CommandRun noChunk = CommandRun.of(with(plain, "--loss-chunk", "0"));
        assertEquals(2, noChunk.status());
        assertTrue(noChunk.err().contains("--loss-chunk 0: expected at least 1"), noChunk.err());
    }

    /** The bytes of "peak memory on the CPU: 1.23 MiB (…)", in KiB. */
    private static double peak(String out) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("peak memory on the CPU: ([0-9.]+) (KiB|MiB|GiB)").matcher(out);
        assertTrue(m.find(), out);
        return Double.parseDouble(m.group(1)) * switch (m.group(2)) {
            case "KiB" -> 1;
            case "MiB" -> 1024;
            default -> 1024 * 1024;
        };
    }

    @Test
    void anotherRunsFolderIsNeitherMixedNorSharedAtOnce() throws Exception {
        Path out = dir.resolve("shared");
        String[] run = {"finetune", "--model", base.toString(), "--data", data.toString(), "--out", out.toString(),
                "--batch", "4", "--steps", "3", "--save-every", "1", "--rank", "8"};
        assertEquals(0, CommandRun.of(run).status());
        assertTrue(Files.isDirectory(out.resolve("checkpoints/step-2")));

        // A new run into it is refused: it would mix its checkpoints with these.
        CommandRun again = CommandRun.of(run);
        assertEquals(1, again.status());
        assertTrue(again.err().contains("holds another run's files") && again.err().contains("step-1"), again.err());

        // Resuming with another rank is refused, naming it.
        String[] otherRank = run.clone();
        otherRank[otherRank.length - 1] = "4";
        String[] resume = with(otherRank, "--resume");
        CommandRun wrong = CommandRun.of(resume);
        assertEquals(1, wrong.status());
        assertTrue(wrong.err().contains("rank 8 (this run: 4)"), wrong.err());

        // While another run holds the folder, a second is refused with its PID.
        try (OutputFolder held = OutputFolder.lock(out)) {
            CommandRun second = CommandRun.of(run);
            assertEquals(1, second.status());
            assertTrue(second.err().contains("in use by another fine-tuning run (PID " + ProcessHandle.current().pid() + ")"),
                    second.err());
        }

        // --overwrite starts afresh: the old checkpoints are gone before the new ones are written.
        String[] overwrite = with(otherRank, "--overwrite");
        overwrite[java.util.Arrays.asList(overwrite).indexOf("--steps") + 1] = "1";
        CommandRun fresh = CommandRun.of(overwrite);
        assertEquals(0, fresh.status(), fresh.err());
        assertTrue(!Files.exists(out.resolve("checkpoints/step-2")), "the old run's checkpoints are removed");
    }

    @Test
    void onlyTheNewestCheckpointsAndTheBestAreKept() throws Exception {
        Path out = dir.resolve("pruned");
        String[] run = {"finetune", "--model", base.toString(), "--data", data.toString(), "--out", out.toString(),
                "--batch", "4", "--steps", "8", "--save-every", "1", "--keep-checkpoints", "2"};
        assertEquals(0, CommandRun.of(run).status());
        List<String> left;
        try (var s = Files.list(out.resolve("checkpoints"))) {
            left = s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("step-")).sorted().toList();
        }
        String best = Files.readString(out.resolve("checkpoints/best")).strip().split(" ")[0];
        // Steps 1..7 were saved (the last step writes the adapter instead): 6 and 7 stay, and the best.
        assertTrue(left.contains("step-6") && left.contains("step-7") && left.contains(best), left + ", best " + best);
        assertTrue(left.size() <= 3, left.toString());
        assertEquals("step-7", Files.readString(out.resolve("checkpoints/latest")).strip());
    }

    @Test
    void badDataAndArgumentsAreNamed() throws Exception {
        Path bad = dir.resolve("bad.jsonl");
        Files.writeString(bad, "{\"prompt\": \"S:abcdef>\", \"completion\": \"bcdefg.\"}\n{\"question\": 1}\n");
        CommandRun r = CommandRun.of("finetune", "--model", base.toString(), "--data", bad.toString(), "--out", dir.resolve("x").toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains("line 2") && r.err().contains("\"prompt\" and \"completion\""), r.err());
        assertFalse(Files.exists(dir.resolve("x")), "nothing written");
        // A binary file given by mistake: the byte that is not UTF-8 is named (0xC3 then 0x28 is no sequence).
        Path binary = Files.write(dir.resolve("weights.jsonl"), new byte[]{'{', '"', (byte) 0xc3, 0x28, 0});
        CommandRun b = CommandRun.of("finetune", "--model", base.toString(), "--data", binary.toString(), "--out", dir.resolve("x").toString());
        assertEquals(1, b.status());
        assertTrue(b.err().contains("weights.jsonl: not UTF-8 text: byte 2 is 0xc3"), b.err());
        assertEquals(2, CommandRun.of("finetune", "--model", base.toString(), "--out", "y").status());
        assertEquals(2, CommandRun.of("finetune", "--model", base.toString(), "--data", data.toString(), "--out", "y",
                "--steps", "3", "--epochs", "1").status());
        CommandRun g = CommandRun.of("generate", "--model", dir.resolve("nothing").toString(), "--prompt", "x");
        assertEquals(1, g.status());
        assertTrue(g.err().contains("no such folder"), g.err());
        assertEquals(2, CommandRun.of("generate", "--model", base.toString(), "--prompt", "C:", "--temperature", "-1").status());
    }

    /** The command line {@code args} with {@code more} appended. */
    private static String[] with(String[] args, String... more) {
        String[] all = java.util.Arrays.copyOf(args, args.length + more.length);
        System.arraycopy(more, 0, all, args.length, more.length);
        return all;
    }
}
