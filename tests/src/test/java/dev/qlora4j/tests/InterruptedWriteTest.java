package dev.qlora4j.tests;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A JVM stopped with SIGTERM (what Ctrl-C and {@code kill} send) in the middle of writing a
 * safetensors file leaves no temporary file behind, and the target is either absent or whole.
 */
class InterruptedWriteTest {
    private static final String WRITER = """
            import dev.qlora4j.engine.*;
            import dev.qlora4j.engine.safetensors.SafetensorsWriter;
            import java.nio.file.Path;
            import java.util.Map;

            public class Writer {
                public static void main(String[] args) throws Exception {
                    try (Tensor big = Tensor.zeros(DType.F32, 4096, 8192)) {
                        while (true) {
                            SafetensorsWriter.write(Path.of(args[0]), Map.of("w", big));
                        }
                    }
                }
            }
            """;
    private static final long WHOLE_FILE_BYTES = 4096L * 8192 * 4;

    @TempDir
    Path work;

    @Test
    void sigtermDuringASafetensorsWriteLeavesNoTemporaryFile() throws Exception {
        List<String> jars = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(p -> Path.of(p).getFileName().toString().matches("qlora4j-(json|engine)-[^-]+(-SNAPSHOT)?\\.jar"))
                .toList();
        Assumptions.assumeTrue(jars.size() == 2, "the engine's jars are on the class path only after packaging: " + jars);
        Path source = Files.writeString(work.resolve("Writer.java"), WRITER);
        Path out = Files.createDirectories(work.resolve("out"));
        Path target = out.resolve("w.safetensors");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", String.join(File.pathSeparator, jars), source.toString(), target.toString()));
        Process writer = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(work.resolve("log").toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            // Stop it while a temporary file exists, after at least one whole write.
            while (!(Files.exists(target) && temporaries(out) > 0)) {
                assertTrue(writer.isAlive(), () -> "the writer stopped by itself: " + log());
                assertTrue(System.nanoTime() < deadline, "no write in progress seen within 2 minutes");
                Thread.sleep(5);
            }
            writer.destroy();
            assertTrue(writer.waitFor(1, TimeUnit.MINUTES), "the writer stops on SIGTERM");
        } finally {
            writer.destroyForcibly();
        }
        assertEquals(0, temporaries(out), "temporary files left behind");
        long headerBytes;
        try (var in = Files.newInputStream(target)) {
            headerBytes = java.nio.ByteBuffer.wrap(in.readNBytes(8)).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        }
        assertEquals(8 + headerBytes + WHOLE_FILE_BYTES, Files.size(target), "the target is a whole file");
    }

    private static long temporaries(Path dir) throws java.io.IOException {
        try (var files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".tmp")).count();
        }
    }

    private String log() {
        try {
            return Files.readString(work.resolve("log"));
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}
