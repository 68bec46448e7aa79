package dev.qlora4j.cli;

import dev.qlora4j.json.Json;
import dev.qlora4j.engine.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The demo end to end, shortened: what it must print and the PEFT files it must write. */
class DemoCommandTest {
    @TempDir
    Path dir;

    @Test
    void theDemoTeachesTheQuantizedBaseANewTaskAndLeavesTheOldOneIntact() throws Exception {
        CommandRun r = CommandRun.of("demo", "--out", dir.toString(), "--base-steps", "120", "--steps", "150", "--eval", "60");
        assertEquals(0, r.status(), r.out() + r.err());
        String out = r.out();
        assertTrue(percent(out, "copy accuracy on 60 held-out words: ") >= 95, out);
        assertTrue(percent(out, "shift accuracy before: ") <= 5, out);
        assertTrue(percent(out, "shift accuracy after:  ") >= 90, out);
        assertTrue(out.contains("adapter disabled: ") && out.contains("— unchanged"), out);
        // The demo config's linear weights: 2 layers × (2·128² + 2·64·128 + 3·128·256) = 294,912 parameters.
        assertTrue(out.matches("(?s).*F32 +[0-9,]+ B +1,179,648 B +32\\.000.*"), out);
        assertTrue(out.matches("(?s).*BF16 +[0-9,]+ B +589,824 B +16\\.000.*"), out);
        // LoRA r = 8 on q (128→128) and v (128→64) in 2 layers: 2·8·((128+128) + (128+64)) = 7,168.
        assertTrue(out.contains("7,168 trainable parameters"), out);

        Path adapter = dir.resolve("adapter");
        Map<?, ?> config = (Map<?, ?>) Json.parse(Files.readString(adapter.resolve("adapter_config.json")));
        assertEquals(8L, ((Number) config.get("r")).longValue());
        assertEquals(16.0, ((Number) config.get("lora_alpha")).doubleValue());
        assertEquals(java.util.List.of("q_proj", "v_proj"), config.get("target_modules"));
        try (SafetensorsFile f = SafetensorsFile.open(adapter.resolve("adapter_model.safetensors"))) {
            assertEquals(8, f.names().size(), "A and B of q and v in two layers");
            assertArrayEquals(new int[]{8, 128}, f.info("base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight").shape().dims());
            assertArrayEquals(new int[]{64, 8}, f.info("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight").shape().dims());
        }
        assertTrue(Files.isRegularFile(dir.resolve("base/config.json")) && Files.isRegularFile(dir.resolve("base/tokenizer.json")));

        // The "try:" line is a command that prints the sample shown above it.
        Matcher sample = Pattern.compile("sample: (\\S+)  with the adapter -> (\\S+)").matcher(out);
        Matcher tryLine = Pattern.compile("try: \\./qlora4j (.*)").matcher(out);
        assertTrue(sample.find() && tryLine.find(), out);
        java.util.List<String> args = new java.util.ArrayList<>();
        Matcher word = Pattern.compile("'([^']*)'|(\\S+)").matcher(tryLine.group(1));
        while (word.find()) {
            args.add(word.group(1) != null ? word.group(1) : word.group(2));
        }
        CommandRun tried = CommandRun.of(args.toArray(String[]::new));
        assertEquals(0, tried.status(), tried.err());
        assertEquals(sample.group(1) + sample.group(2), tried.out().strip(), "what the try: line prints");
    }

    @Test
    void badArgumentsAreRefusedWithTheUsage() {
        CommandRun r = CommandRun.of("demo", "--targets", "qkv");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("\"qkv\" is not a linear module") && r.err().contains("usage: qlora4j demo"), r.err());
        assertEquals(2, CommandRun.of("demo", "--steps", "0").status());
    }

    private static double percent(String out, String label) {
        Matcher m = Pattern.compile(Pattern.quote(label) + "([0-9.]+)%").matcher(out);
        assertTrue(m.find(), "no \"" + label + "\" in\n" + out);
        return Double.parseDouble(m.group(1));
    }
}
