package dev.qlora4j.cli;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where a run of the scaling study falls: a good scaling, too small an update to learn in the steps
 * given, too large a one to settle (with AdamW and a pre-norm model this mostly stalls near chance
 * rather than exploding), or divergence. Judged against the best run of the same scaling and rank,
 * because how low the loss can get depends on the task, not on a fixed number.
 */
enum ScalingRegime {
    GOOD("ok"), TOO_SLOW("slow"), TOO_HIGH("too high"), DIVERGED("diverged");

    /** A final loss this many times the best at the same scaling and rank means the run did not learn. */
    static final double WORSE_THAN_BEST = 3;
    /** A final loss above this share of the first step's means the run did not learn, whatever the best. */
    static final double FIRST_SHARE = 0.5;
    /** Held-out exact-match accuracy at which a run has learned the task, whatever its loss next to the best. */
    static final double SOLVED = 0.95;

    final String label;

    ScalingRegime(String label) {
        this.label = label;
    }

    /**
     * Every run's regime. A run that solves the held-out words has learned; one that did not learn is too slow if its alpha is at most the best run's
     * (of its scaling and rank), too high if above.
     */
    static Map<ScalingRun, ScalingRegime> classify(List<ScalingRun> runs) {
        Map<ScalingRun, ScalingRegime> regimes = new LinkedHashMap<>();
        for (ScalingRun r : runs) {
            Optional<ScalingRun> best = best(runs, r.scaling(), r.rank());
            if (r.diverged() || best.isEmpty()) {
                regimes.put(r, DIVERGED);
            } else if (r.accuracy() < SOLVED
                    && (r.finalLoss() > WORSE_THAN_BEST * best.get().finalLoss() || r.finalLoss() > FIRST_SHARE * r.startLoss())) {
                regimes.put(r, r.alpha() <= best.get().alpha() ? TOO_SLOW : TOO_HIGH);
            } else {
                regimes.put(r, GOOD);
            }
        }
        return regimes;
    }

    /** The run of this scaling and rank with the lowest final loss among those that did not diverge. */
    static Optional<ScalingRun> best(List<ScalingRun> runs, LoraScaling scaling, int rank) {
        return runs.stream().filter(r -> r.scaling() == scaling && r.rank() == rank && !r.diverged())
                .min(Comparator.comparingDouble(ScalingRun::finalLoss));
    }

    /** "ok", "slow", "too high" or "diverged at step N". */
    String describe(ScalingRun run) {
        return this == DIVERGED ? "diverged at step " + run.divergedAt() : label;
    }
}
