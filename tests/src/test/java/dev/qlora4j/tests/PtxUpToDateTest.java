package dev.qlora4j.tests;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Each committed .ptx is what cuda/ptx/build-ptx.sh compiles from its .cu today. The script's
 * {@code --check} holds the one set of nvcc flags; it exits 77 where nvcc is missing (or is another
 * release than the one that made the committed PTX), which skips the check.
 */
class PtxUpToDateTest {
    @ParameterizedTest
    @ValueSource(strings = {"engine-cuda/src/main/resources/dev/qlora4j/engine/cuda/kernels.cu",
            "nf4/src/main/resources/dev/qlora4j/nf4/cuda/dequant.cu"})
    void ptxMatchesItsSource(String source) throws IOException, InterruptedException {
        Path root = repoRoot();
        String name = Path.of(source).getFileName().toString();
        String ptx = name.replace(".cu", ".ptx");
        Process p;
        try {
            p = new ProcessBuilder("bash", "cuda/ptx/build-ptx.sh", "--check", source)
                    .directory(root.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("cannot run bash to check the PTX: " + e.getMessage());
            return;
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail("cuda/ptx/build-ptx.sh --check did not finish in 5 minutes");
        }
        int status = p.exitValue();
        Assumptions.assumeTrue(status != 77, () -> "PTX not checked: " + output);
        if (status == 1) {
            fail(ptx + " is out of date with " + name + ": run cuda/ptx/build-ptx.sh\n" + output);
        }
        assertEquals(0, status, () -> "cuda/ptx/build-ptx.sh --check failed:\n" + output);
    }

    /** The nearest directory at or above the working directory that holds cuda/ptx/build-ptx.sh. */
    private static Path repoRoot() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("cuda/ptx/build-ptx.sh"))) {
                return d;
            }
        }
        return fail("no cuda/ptx/build-ptx.sh at or above " + Path.of("").toAbsolutePath());
    }
}
