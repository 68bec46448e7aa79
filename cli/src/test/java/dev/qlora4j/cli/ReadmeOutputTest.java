package dev.qlora4j.cli;

import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.safetensors.SafetensorsFile;
import dev.qlora4j.engine.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every command output README quotes is what the command prints now: the block after each anchor
 * sentence is compared line by line with a fresh run, so README's numbers cannot drift from the
 * code. Lines that carry timings are compared with their digits masked (their layout still must
 * match); everything else, memory and parameter counts, accuracies and samples, exactly. The keys
 * README lists for quantized files are the keys {@code quantize} writes.
 */
class ReadmeOutputTest {
    private static final Path README = Path.of("..", "README.md");

    @TempDir
    Path dir;

    private static boolean timed(String line) {
        return line.contains("tok/s") || line.matches(" +\\d+ +[0-9.]+ +[0-9.]+ MiB +[0-9.]+ +[0-9.]+ MiB")
                || line.startsWith("measured on the CPU");
    }

    @Test
    void memoryOfLlama2() throws Exception {
        check("here `--model 7b`:", line -> false, "memory", "--model", "7b");
    }

    @Test
    void rankSweepTables() throws Exception {
        check("and of a demo-model step:", ReadmeOutputTest::timed, "rank-sweep");
    }

    @Test
    void theDemo() throws Exception {
        Path out = dir.resolve("demo-out");
        check("(progress lines trimmed):", ReadmeOutputTest::timed, "demo", "--out", out.toString());
    }

    @Test
    void theKeyLayoutOfQuantizedFiles() throws Exception {
        assumeTrue(Files.isRegularFile(README), "README.md is checked in the source tree");
        String readme = Files.readString(README).replace('\n', ' ');
        int from = readme.indexOf("bitsandbytes models (4-bit: ");
        int to = readme.indexOf("), so files move", from);
        String[] parts = readme.substring(from, to).split("; INT8: ");
        Path in = dir.resolve("in.safetensors");
        float[] values = new float[64 * 96];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) Math.sin(i);
        }
        try (Tensor w = Tensor.of(values, 64, 96)) {
            SafetensorsWriter.write(in, Map.of("layer.mlp.up_proj.weight", w));
        }
        for (int k = 0; k < 2; k++) {
            Path out = dir.resolve("out" + k + ".safetensors");
            CommandRun r = k == 0 ? CommandRun.of("quantize", in.toString(), out.toString())
                    : CommandRun.of("quantize", in.toString(), out.toString(), "--type", "int8");
            assertEquals(0, r.status(), r.err());
            Set<String> named = new TreeSet<>();
            Matcher m = Pattern.compile("`([WM](\\.[A-Za-z_0-9.]+)?)`").matcher(parts[k]);
            while (m.find()) {
                named.add(m.group(1).replace("W", "layer.mlp.up_proj.weight").replace("M", "layer.mlp.up_proj"));
            }
            try (SafetensorsFile f = SafetensorsFile.open(out)) {
                assertEquals(named, new TreeSet<>(f.names()), "README's keys for " + (k == 0 ? "4-bit" : "INT8"));
            }
        }
    }

    private void check(String anchor, Predicate<String> varies, String... command) throws Exception {
        assumeTrue(Files.isRegularFile(README), "README.md is checked in the source tree");
        List<String> quoted = blockAfter(Files.readString(README), anchor);
        CommandRun r = CommandRun.of(command);
        assertEquals(0, r.status(), r.err());
        String printed = r.out().replace(dir.resolve("demo-out").toString(), "demo-out");
        List<String> lines = printed.lines().filter(l -> !l.startsWith("device: ")).toList();
        // README quotes a contiguous stretch of the output, leaving out only the progress lines
        // printed on the way (those with an ETA).
        int j = lines.indexOf(quoted.getFirst());
        if (j < 0) {
            fail("README's block after \"" + anchor + "\" starts with a line the command no longer prints; it prints:\n" + printed);
        }
        for (int i = 0; i < quoted.size(); i++, j++) {
            String want = quoted.get(i);
            while (j < lines.size() && lines.get(j).contains(" ETA ") && !want.contains(" ETA ")) {
                j++;
            }
            String got = j < lines.size() ? lines.get(j) : "(nothing: the output ended)";
            boolean same = varies.test(want) ? masked(want).equals(masked(got)) : want.equals(got);
            if (!same) {
                fail("README's block after \"" + anchor + "\", line " + (i + 1) + ":\n  README:  " + want + "\n  printed: " + got
                        + "\nthe command prints:\n" + printed);
            }
        }
    }

    private static String masked(String line) {
        return line.replaceAll("[0-9][0-9.,:]*", "#").replaceAll(" +", " ");
    }

    private static List<String> blockAfter(String readme, String anchor) {
        int at = readme.indexOf(anchor);
        if (at < 0) {
            fail("README has no \"" + anchor + "\"");
        }
        int open = readme.indexOf("```\n", at);
        int close = readme.indexOf("\n```", open + 4);
        return readme.substring(open + 4, close).lines().toList();
    }
}
