package dev.qlora4j.engine;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Files written whole or not at all: into a temporary file beside the target, forced to disk, then
 * renamed over it, so a reader or a crash never sees half of one. Temporary files are created with
 * the permissions any new file gets (the user's umask applies), so every file qlora4j writes —
 * JSON or safetensors — follows one rule; they are named {@code <target>.<pid>.<n>.tmp}.
 */
public final class AtomicFiles {
    private static final AtomicLong COUNTER = new AtomicLong();

    private AtomicFiles() {
    }

    /** A new, empty temporary file in {@code file}'s folder (created if needed), for {@code file}'s contents. */
    public static Path temporaryBeside(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        return Files.createFile(dir.resolve(file.getFileName() + "." + ProcessHandle.current().pid() + "."
                + COUNTER.incrementAndGet() + ".tmp"));
    }

    /** Writes {@code text} (UTF-8) to {@code file} atomically. */
    public static void writeString(Path file, String text) throws IOException {
        Path tmp = temporaryBeside(file);
        try {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                java.nio.ByteBuffer bytes = java.nio.ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
                while (bytes.hasRemaining()) {
                    channel.write(bytes);
                }
                channel.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
