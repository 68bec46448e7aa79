package dev.qlora4j.tests;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** The repository's root, for tests that read sources; absent where only compiled tests were carried (the GPU check). */
final class SourceTree {
    private SourceTree() {
    }

    /** The nearest directory at or above the working directory that holds the parent pom and cuda/. */
    static Optional<Path> root() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("pom.xml")) && Files.isRegularFile(d.resolve("cuda/ptx/build-ptx.sh"))) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }
}
