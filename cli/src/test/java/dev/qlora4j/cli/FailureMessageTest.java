package dev.qlora4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The JDK's file errors, raised by real file operations, are printed with their reason beside the path. */
class FailureMessageTest {
    @TempDir
    Path dir;

    @Test
    void fileSystemErrorsSayWhatIsWrongWithThePath() throws Exception {
        Path missing = dir.resolve("missing.json");
        assertEquals(missing + ": no such file or folder",
                FailureMessage.of(assertThrows(Exception.class, () -> Files.readAllBytes(missing))));
        Path file = Files.writeString(dir.resolve("file"), "x");
        assertEquals(file + ": already exists, and is in the way",
                FailureMessage.of(assertThrows(Exception.class, () -> Files.createDirectories(file))));
        assertEquals(file.resolve("sub") + ": Not a directory",
                FailureMessage.of(assertThrows(Exception.class, () -> Files.createDirectories(file.resolve("sub")))));
        assertEquals(file + ": not a folder",
                FailureMessage.of(assertThrows(Exception.class, () -> Files.newDirectoryStream(file).close())));
        Path full = Files.createDirectories(dir.resolve("full"));
        Files.writeString(full.resolve("a"), "x");
        assertEquals(full + ": the folder is not empty", FailureMessage.of(assertThrows(Exception.class, () -> Files.delete(full))));
    }

    @Test
    void otherErrorsKeepTheirMessageOrNameTheirType() {
        assertEquals("bad rank", FailureMessage.of(new IllegalArgumentException("bad rank")));
        assertEquals("java.lang.IllegalStateException", FailureMessage.of(new IllegalStateException()));
        assertEquals("out of memory: Java heap space", FailureMessage.of(new OutOfMemoryError("Java heap space")));
    }

    @Test
    void aCommandFailingOnAMissingFilePrintsTheReason() {
        Path missing = dir.resolve("nothing.safetensors");
        CommandRun r = CommandRun.of("dequantize", missing.toString(), dir.resolve("out.safetensors").toString());
        assertEquals(1, r.status());
        assertEquals(true, r.err().contains(missing + ": no such file"), r.err());
    }
}
