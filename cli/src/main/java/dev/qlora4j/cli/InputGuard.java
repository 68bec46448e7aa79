package dev.qlora4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Keeps a command that reads IN and writes OUT from replacing IN, the only copy of the original, by mistake. */
final class InputGuard {
    private InputGuard() {
    }

    /**
     * @throws UsageException when {@code out} is {@code in} — the same file by any path, links
     *         included — and {@code inPlace} was not asked for
     */
    static void refuseOverwritingInput(String command, Path in, Path out, boolean inPlace) throws UsageException, IOException {
        if (inPlace || !Files.exists(in) || !Files.exists(out)) {
            return;
        }
        if (Files.isSameFile(in, out)) {
            throw new UsageException(command + ": OUT " + out + " is the input file " + in + "; writing it would replace the"
                    + " original. Choose another OUT, or pass --in-place to replace it on purpose");
        }
    }
}
