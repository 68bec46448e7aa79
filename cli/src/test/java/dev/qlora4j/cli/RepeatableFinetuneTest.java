package dev.qlora4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The same fine-tuning run in two JVMs whose JIT compilers differ — one runs only the interpreter
 * and C1, the other only the interpreter and C2, compiling as it goes — writes the same adapter
 * bytes. Any kernel whose bits depend on which tier runs it (a vendor math routine in C2 and a Java
 * fallback elsewhere, a reassociated reduction) makes the two differ.
 */
class RepeatableFinetuneTest {
    @TempDir
    Path dir;

    @Test
    void theAdapterBytesDoNotDependOnTheJitTier() throws Exception {
        Path base = FinetuneFixtures.base(dir, 20, 3);
        Path data = FinetuneFixtures.shiftData(dir, 32);
        byte[] c1 = finetune(base, data, "c1", "-XX:TieredStopAtLevel=1");
        byte[] c2 = finetune(base, data, "c2", "-XX:-TieredCompilation", "-Xbatch");
        assertArrayEquals(c1, c2, "adapter bytes from a C1-only and a C2-only JVM");
    }

    private byte[] finetune(Path base, Path data, String name, String... jit) throws Exception {
        Path out = dir.resolve(name);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g"));
        command.addAll(List.of(jit));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "finetune",
                "--model", base.toString(), "--data", data.toString(), "--out", out.toString(),
                "--batch", "4", "--steps", "6", "--lr", "1e-2", "--save-every", "1000", "--seed", "9"));
        Path log = dir.resolve(name + ".log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
        }
        assertEquals(0, p.exitValue(), () -> name + ": " + read(log));
        return Files.readAllBytes(out.resolve("adapter_model.safetensors"));
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}
