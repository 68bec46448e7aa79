package dev.qlora4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Keeps a run's checkpoints to the newest {@code keep} plus the one saved at the lowest training loss
 * ({@code checkpoints/best}), removing the others only after the newest is complete — so a long run
 * with frequent saves does not fill the disk, and an interruption never leaves fewer than one.
 */
final class CheckpointPruning {
    static final String BEST = "best";

    private CheckpointPruning() {
    }

    /** Records {@code step} (just saved, complete) with its loss, and prunes the checkpoints past the rule. */
    static void afterSave(Path checkpoints, long step, float loss, int keep) throws IOException {
        Path bestFile = checkpoints.resolve(BEST);
        long best = step;
        if (Files.isRegularFile(bestFile)) {
            String[] parts = Files.readString(bestFile).strip().split("\\s+");
            if (parts.length == 2 && Files.isDirectory(checkpoints.resolve(parts[0]))) {
                float bestLoss = Float.parseFloat(parts[1]);
                best = !(loss < bestLoss) ? Long.parseLong(parts[0].substring("step-".length())) : step;
            }
        }
        if (best == step) {
            dev.qlora4j.engine.AtomicFiles.writeString(bestFile, "step-" + step + " " + loss + "\n");
        }
        List<Long> steps = new ArrayList<>();
        try (Stream<Path> s = Files.list(checkpoints)) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.matches("step-\\d+"))
                    .forEach(n -> steps.add(Long.parseLong(n.substring("step-".length()))));
        }
        steps.sort(Comparator.reverseOrder());
        Set<Long> kept = new TreeSet<>(steps.subList(0, Math.min(keep, steps.size())));
        kept.add(best);
        for (long old : steps) {
            if (!kept.contains(old)) {
                try (Stream<Path> walk = Files.walk(checkpoints.resolve("step-" + old))) {
                    for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(p);
                    }
                }
            }
        }
    }
}
