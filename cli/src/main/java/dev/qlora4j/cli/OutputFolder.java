package dev.qlora4j.cli;

import dev.qlora4j.json.Json;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The {@code --out} folder of a fine-tuning run, held for the run: an exclusive lock (a second run on
 * the same folder is refused, with the first one's PID), and the rule that a run does not mix its
 * checkpoints with another's — a folder holding another run's checkpoints or adapter is refused
 * unless the run resumes it (with the same rank, targets and base model) or is told to overwrite it.
 */
final class OutputFolder implements AutoCloseable {
    static final String LOCK = ".qlora4j.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private OutputFolder(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Creates {@code dir} if needed and locks it for this process.
     *
     * @throws IllegalStateException when another run holds it, naming that run's PID
     */
    static OutputFolder lock(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(LOCK);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            String holder = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).strip();
            channel.close();
            throw new IllegalStateException(dir + " is in use by another fine-tuning run"
                    + (holder.isEmpty() ? "" : " (PID " + holder + ")") + "; wait for it to finish or choose another --out");
        }
        channel.truncate(0);
        channel.write(java.nio.ByteBuffer.wrap(Long.toString(ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8)), 0);
        return new OutputFolder(channel, lock);
    }

    /**
     * Checks that a new run may write into {@code dir}: refuses one that holds another run's checkpoints
     * or adapter unless {@code overwrite}, in which case they are removed first.
     */
    static void prepareForNewRun(Path dir, Path checkpoints, boolean overwrite) throws IOException {
        Set<String> found = new TreeSet<>();
        if (Files.isDirectory(checkpoints)) {
            try (Stream<Path> s = Files.list(checkpoints)) {
                s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("step-") || n.equals("latest")).forEach(found::add);
            }
        }
        for (String f : List.of("adapter_config.json", "adapter_model.safetensors")) {
            if (Files.exists(dir.resolve(f))) {
                found.add(f);
            }
        }
        if (found.isEmpty()) {
            return;
        }
        if (!overwrite) {
            throw new IllegalArgumentException(dir + " holds another run's files (" + String.join(", ", found)
                    + "); --resume to continue that run, --overwrite to replace it, or choose another --out");
        }
        if (Files.isDirectory(checkpoints)) {
            try (Stream<Path> walk = Files.walk(checkpoints)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.deleteIfExists(dir.resolve("adapter_config.json"));
        Files.deleteIfExists(dir.resolve("adapter_model.safetensors"));
    }

    /** What a run records beside its checkpoints, so that a resume can be checked against it. */
    static final String RUN = "run.json";

    /** Records the run's model, rank and targets in {@code checkpoints/run.json}. */
    static void recordRun(Path checkpoints, Path modelDir, int rank, Set<String> targets) throws IOException {
        Files.createDirectories(checkpoints);
        String json = "{\"model\": " + Json.quote(modelDir.toAbsolutePath().toString()) + ", \"rank\": " + rank
                + ", \"targets\": [" + String.join(", ", new TreeSet<>(targets).stream().map(Json::quote).toList()) + "]}\n";
        dev.qlora4j.engine.AtomicFiles.writeString(checkpoints.resolve(RUN), json);
    }

    /**
     * Checks that the checkpoints to resume were made by a run with this run's base model, rank and
     * targets, as its {@code run.json} records them.
     *
     * @throws IllegalArgumentException naming each difference, or what is missing
     */
    static void checkResumable(Path checkpoints, int rank, Set<String> targets, Path modelDir) throws IOException {
        Path run = checkpoints.resolve(RUN);
        if (!Files.isRegularFile(run)) {
            throw new IllegalArgumentException(checkpoints + ": no " + RUN + " recording the run to resume; "
                    + "start afresh with --overwrite");
        }
        if (!(Json.parse(run) instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException(run + ": not a JSON object; start afresh with --overwrite");
        }
        StringBuilder differs = new StringBuilder();
        if (!(m.get("rank") instanceof Number r) || r.intValue() != rank) {
            differs.append(" rank ").append(m.get("rank")).append(" (this run: ").append(rank).append(");");
        }
        Set<String> saved = new TreeSet<>();
        if (m.get("targets") instanceof List<?> l) {
            l.forEach(t -> saved.add(String.valueOf(t)));
        }
        if (!saved.equals(new TreeSet<>(targets))) {
            differs.append(" targets ").append(saved).append(" (this run: ").append(new TreeSet<>(targets)).append(");");
        }
        String model = String.valueOf(m.get("model"));
        if (!model.equals(modelDir.toAbsolutePath().toString())) {
            differs.append(" base model ").append(model).append(" (this run: ").append(modelDir.toAbsolutePath()).append(");");
        }
        if (!differs.isEmpty()) {
            throw new IllegalArgumentException(checkpoints + ": the checkpoints were made with" + differs
                    + " resume with the same flags, or start afresh with --overwrite");
        }
    }

    /** Releases the lock; the lock file stays, harmless, for the next run. */
    @Override
    public void close() throws IOException {
        lock.release();
        channel.close();
    }
}
