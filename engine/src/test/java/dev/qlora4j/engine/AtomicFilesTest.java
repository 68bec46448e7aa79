package dev.qlora4j.engine;

import dev.qlora4j.engine.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Every file qlora4j writes gets the permissions of any new file in its folder (the umask's), JSON or safetensors. */
class AtomicFilesTest {
    @TempDir
    Path dir;

    @Test
    void textAndSafetensorsFilesGetTheUmasksPermissionsAndNoTemporaryIsLeft() throws Exception {
        assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"), "no POSIX permissions here");
        Path plain = Files.createFile(dir.resolve("plain"));
        var expected = Files.getPosixFilePermissions(plain);
        Path json = dir.resolve("config.json");
        AtomicFiles.writeString(json, "{}\n");
        Path st = dir.resolve("w.safetensors");
        try (Tensor t = Tensor.of(new float[]{1, 2}, 2)) {
            SafetensorsWriter.write(st, Map.of("w", t));
        }
        assertEquals(expected, Files.getPosixFilePermissions(json), "JSON");
        assertEquals(expected, Files.getPosixFilePermissions(st), "safetensors");
        assertEquals("{}\n", Files.readString(json));
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.toString().endsWith(".tmp")), "no temporary file left");
        }
    }
}
