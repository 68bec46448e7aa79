package dev.qlora4j.cli;

import dev.qlora4j.cuda.CudaProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** {@code --device} on every command that computes with a model: refused text, an unusable GPU, the CPU's results. */
class DeviceOptionTest {
    @TempDir
    Path dir;

    /** Each command with the arguments it requires; none of them gets as far as reading the paths. */
    private List<String[]> commands() {
        String missing = dir.resolve("missing").toString();
        String out = dir.resolve("out").toString();
        return List.of(new String[]{"demo", "--out", out}, new String[]{"finetune", "--model", missing, "--data", missing, "--out", out},
                new String[]{"generate", "--model", missing, "--prompt", "C:"}, new String[]{"rank-sweep"},
                new String[]{"scaling-study", "--out", out}, new String[]{"memory"});
    }

    private static String[] with(String[] command, String... more) {
        String[] all = java.util.Arrays.copyOf(command, command.length + more.length);
        System.arraycopy(more, 0, all, command.length, more.length);
        return all;
    }

    @Test
    void everyCommandListsTheOption() {
        for (String[] c : commands()) {
            CommandRun r = CommandRun.of(c[0], "--help");
            assertEquals(0, r.status(), c[0]);
            assertTrue(r.out().contains("[--device cpu|cuda|cuda:N|auto]") && r.out().contains("auto (the default)"),
                    c[0] + ":\n" + r.out());
        }
    }

    @Test
    void textThatNamesNoDeviceIsBadUsage() {
        for (String[] c : commands()) {
            for (String bad : new String[]{"nonsense", "cuda:x", "cuda:-1"}) {
                CommandRun r = CommandRun.of(with(c, "--device", bad));
                assertEquals(2, r.status(), c[0] + " --device " + bad + ": " + r.err());
                assertTrue(r.err().startsWith("qlora4j " + c[0] + ": --device \"" + bad + "\": expected cpu, cuda, cuda:N"),
                        r.err());
                assertTrue(r.err().contains("or auto") && r.err().contains("usage: qlora4j " + c[0]), r.err());
            }
        }
    }

    @Test
    void aGpuThatCannotBeUsedFailsEveryCommandAtOnceWithTheReason() {
        CudaProbe.Result cuda = CudaProbe.run();
        assumeFalse(cuda.usable(), "CUDA is usable here");
        for (String[] c : commands()) {
            CommandRun r = CommandRun.of(with(c, "--device", "cuda"));
            assertEquals(1, r.status(), c[0] + ": " + r.out() + r.err());
            assertEquals(1, r.err().lines().count(), "one line, no stack trace:\n" + r.err());
            assertTrue(r.err().startsWith("qlora4j " + c[0] + ": device cuda:0 is not usable: ") && r.err().contains(cuda.detail()),
                    r.err());
            assertEquals("", r.out(), c[0] + " did nothing before failing");
        }
        assertFalse(Files.exists(dir.resolve("out")), "nothing written");
    }

    @Test
    void theCpuFallbackIsSaidOnlyWhenAutoIsNamed() {
        assumeFalse(CudaProbe.run().usable(), "CUDA is usable here");
        // The engine says it on the process's standard error, which this test captures.
        java.io.PrintStream before = System.err;
        java.io.ByteArrayOutputStream said = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(said, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            assertEquals(0, CommandRun.of("memory", "--model", "demo").status());
            assertFalse(said.toString(java.nio.charset.StandardCharsets.UTF_8).contains("using the CPU"), said.toString());
            assertEquals(0, CommandRun.of("memory", "--model", "demo", "--device", "auto").status());
            assertTrue(said.toString(java.nio.charset.StandardCharsets.UTF_8).contains("qlora4j: using the CPU ("), said.toString());
        } finally {
            System.setErr(before);
        }
    }

    @Test
    void onTheCpuMemoryMeasuresWhatItAlwaysHas() {
        CommandRun r = CommandRun.of("memory", "--model", "demo", "--rank", "8", "--batch", "8", "--seq", "48", "--device", "cpu");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("device: cpu\n"), r.out());
        assertTrue(r.out().contains("measured on the CPU: bytes allocated by loading the demo model"), r.out());
        // Bytes as the CPU allocator hands them out (size classes), the same as before --device existed.
        assertTrue(r.out().matches("(?s).*\\nF32 +1,196,544 B allocated, linear weights 1,179,648 B\\n.*"), r.out());
        assertTrue(r.out().matches("(?s).*\\nNF4 \\+ double quant +162,688 B allocated, linear weights 167,376 B\\n.*"), r.out());
        assertTrue(r.out().contains("measured on the demo model (random weights) on the CPU: peak 8.41 MiB (+2.1% vs the count above)"),
                r.out());
    }

    @Test
    void onTheCpuRankSweepMeasuresARowPerRank() {
        CommandRun r = CommandRun.of("rank-sweep", "--ranks", "8", "--dim", "256", "--tokens", "4", "--repeats", "1", "--device", "cpu");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("device: cpu\n") && r.out().contains("measured on the CPU, "), r.out());
        assertTrue(r.out().matches("(?s).*\\n +8 +[0-9.]+ +36\\.06 KiB +[0-9.]+ +20\\.32 MiB\\n.*"), r.out());
    }
}
