package dev.qlora4j.engine;

import dev.qlora4j.engine.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every file qlora4j writes gets the permissions of any new file in its folder (the umask's), JSON or
 * safetensors; temporary files of a killed process are swept, those of a stopped one removed.
 */
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

    @Test
    void theFirstWriteIntoAFolderSweepsOnlyTheTemporaryFilesOfProcessesThatNoLongerRun() throws Exception {
        Process finished = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-version")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        finished.waitFor();
        assumeTrue(ProcessHandle.of(finished.pid()).isEmpty(), "the finished process's id is in use again");
        Path stale = Files.writeString(dir.resolve("out.safetensors.qlora4j-" + finished.pid() + "-3.tmp"), "half");
        Path live = Files.writeString(dir.resolve("out.safetensors.qlora4j-" + ProcessHandle.current().pid() + "-999.tmp"), "x");
        Path usersOwn = Files.writeString(dir.resolve("notes." + finished.pid() + ".3.tmp"), "mine");
        AtomicFiles.writeString(dir.resolve("adapter_config.json"), "{}");
        assertFalse(Files.exists(stale), "a dead process's temporary file is removed");
        assertTrue(Files.exists(live), "a running process's temporary file is kept");
        assertTrue(Files.exists(usersOwn), "a file not of our naming is kept");
    }

    @Test
    void aStoppedJvmRemovesTheTemporaryFilesOfWritesItCutOff() throws Exception {
        Path unfinished = AtomicFiles.temporaryBeside(dir.resolve("big.safetensors"));
        Path finished = dir.resolve("small.json");
        AtomicFiles.writeString(finished, "{}");
        AtomicFiles.deleteOpen();
        assertFalse(Files.exists(unfinished), "the write in progress leaves nothing");
        assertEquals("{}", Files.readString(finished), "a committed file is untouched");
    }
}
