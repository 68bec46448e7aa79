package dev.qlora4j.engine;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Files written whole or not at all: into a temporary file beside the target, forced to disk, then
 * renamed over it, so a reader or a crash never sees half of one. Temporary files are created with
 * the permissions any new file gets (the user's umask applies), so every file qlora4j writes —
 * JSON or safetensors — follows one rule; they are named {@code <target>.qlora4j-<pid>-<n>.tmp}.
 *
 * <p>None is left behind: those still open when the JVM is stopped (Ctrl-C, {@code kill}) are
 * removed by a shutdown hook, and those of a process killed outright ({@code kill -9}, a power cut)
 * are removed the next time any qlora4j process writes into that folder — a temporary file of this
 * naming whose process no longer runs can belong to no one.
 */
public final class AtomicFiles {
    private static final AtomicLong COUNTER = new AtomicLong();
    private static final Pattern OUR_TEMPORARY = Pattern.compile(".+\\.qlora4j-(\\d+)-\\d+\\.tmp");
    private static final Set<Path> OPEN = ConcurrentHashMap.newKeySet();
    private static final Set<Path> SWEPT = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(AtomicFiles::deleteOpen, "qlora4j-temporary-files"));
    }

    private AtomicFiles() {
    }

    /**
     * A new, empty temporary file in {@code file}'s folder (created if needed), for {@code file}'s
     * contents; finish it with {@link #commit} or {@link #discard}. The first call for a folder also
     * removes the temporary files that killed qlora4j processes left there.
     */
    public static Path temporaryBeside(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        if (SWEPT.add(dir)) {
            sweepStale(dir);
        }
        Path tmp = dir.resolve(file.getFileName() + ".qlora4j-" + ProcessHandle.current().pid() + "-"
                + COUNTER.incrementAndGet() + ".tmp");
        OPEN.add(tmp);
        try {
            return Files.createFile(tmp);
        } catch (IOException | RuntimeException e) {
            OPEN.remove(tmp);
            throw e;
        }
    }

    /** Renames the finished temporary file {@code tmp} over {@code file}, in one step. */
    public static void commit(Path tmp, Path file) throws IOException {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        OPEN.remove(tmp);
    }

    /** Removes the temporary file {@code tmp} (a write that failed), if it is still there. */
    public static void discard(Path tmp) throws IOException {
        Files.deleteIfExists(tmp);
        OPEN.remove(tmp);
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
            commit(tmp, file);
        } catch (IOException | RuntimeException e) {
            try {
                discard(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** Removes the temporary files of our naming in {@code dir} whose process no longer runs. */
    static void sweepStale(Path dir) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "*.qlora4j-*.tmp")) {
            for (Path entry : entries) {
                Matcher m = OUR_TEMPORARY.matcher(entry.getFileName().toString());
                if (m.matches() && !running(m.group(1)) && Files.isRegularFile(entry, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.deleteIfExists(entry);
                }
            }
        }
    }

    private static boolean running(String pid) {
        try {
            return ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::isAlive).orElse(false);
        } catch (NumberFormatException tooLong) {
            return false;
        }
    }

    /** What the shutdown hook does: removes the temporary files of writes that were cut off. */
    static void deleteOpen() {
        for (Path tmp : OPEN) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // The JVM is stopping: a file that cannot be removed now is swept at the next start.
            }
        }
    }
}
