package dev.qlora4j.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What the scaling study's numbers show, computed from them: per scaling kind, the alphas that learn
 * too slowly, stall from too large an update, or diverge; the best alpha at each rank and the alphas
 * good at every rank; and how far the best alpha moves across ranks — the question rsLoRA was
 * proposed to answer.
 */
final class ScalingConclusions {
    private ScalingConclusions() {
    }

    static String describe(List<ScalingRun> runs, Map<ScalingRun, ScalingRegime> regimes, List<LoraScaling> kinds,
                           List<Integer> ranks, List<Double> alphas) {
        StringBuilder b = new StringBuilder("Conclusions (computed from the table above; \"not learned\": held-out accuracy under "
                + Math.round(100 * ScalingRegime.SOLVED) + "% and a final loss over "
                + DemoCommand.trim(ScalingRegime.WORSE_THAN_BEST) + "× the best at the same scaling and rank, or over "
                + Math.round(100 * ScalingRegime.FIRST_SHARE) + "% of the first step's):\n");
        Map<LoraScaling, Double> spread = new LinkedHashMap<>();
        for (LoraScaling kind : kinds) {
            List<ScalingRun> ofKind = runs.stream().filter(r -> r.scaling() == kind).toList();
            b.append(String.format("%n%s (s = %s):%n", kind.label, kind.formula));
            b.append("  too slow, not learned at smaller alphas: ").append(byAlpha(ofKind, regimes, alphas, ScalingRegime.TOO_SLOW)).append('\n');
            b.append("  too high, not learned at larger alphas:  ").append(byAlpha(ofKind, regimes, alphas, ScalingRegime.TOO_HIGH)).append('\n');
            b.append("  diverged (loss NaN, infinite or > ").append(DemoCommand.trim(ScalingRun.DIVERGENCE_FACTOR))
                    .append("× the first): ").append(byAlpha(ofKind, regimes, alphas, ScalingRegime.DIVERGED)).append('\n');
            List<ScalingRun> best = new ArrayList<>();
            for (int rank : ranks) {
                Optional<ScalingRun> r = ScalingRegime.best(runs, kind, rank);
                if (r.isEmpty()) {
                    b.append(String.format("  r = %d: every alpha diverged%n", rank));
                    continue;
                }
                best.add(r.get());
                b.append(String.format(Locale.ROOT, "  r = %d: best alpha %s (s = %.4g): final loss %.4g, accuracy %.1f%%%n", rank,
                        DemoCommand.trim(r.get().alpha()), r.get().factor(), r.get().finalLoss(), 100 * r.get().accuracy()));
            }
            List<String> goodEverywhere = new ArrayList<>();
            for (double alpha : alphas) {
                if (ranks.stream().allMatch(rank -> ofKind.stream().anyMatch(
                        r -> r.rank() == rank && r.alpha() == alpha && regimes.get(r) == ScalingRegime.GOOD))) {
                    goodEverywhere.add(DemoCommand.trim(alpha));
                }
            }
            b.append("  alphas ok at every rank: ").append(goodEverywhere.isEmpty() ? "none" : String.join(", ", goodEverywhere))
                    .append('\n');
            if (best.size() > 1) {
                double lo = best.stream().mapToDouble(ScalingRun::alpha).min().orElseThrow();
                double hi = best.stream().mapToDouble(ScalingRun::alpha).max().orElseThrow();
                spread.put(kind, hi / lo);
                b.append(hi == lo
                        ? String.format("  the best alpha is the same at every rank: %s%n", DemoCommand.trim(lo))
                        : String.format(Locale.ROOT, "  the best alpha moves with the rank: from %s to %s (×%s)%n",
                        DemoCommand.trim(lo), DemoCommand.trim(hi), DemoCommand.trim(hi / lo)));
            }
        }
        if (spread.containsKey(LoraScaling.STANDARD) && spread.containsKey(LoraScaling.RS_LORA)) {
            double standard = spread.get(LoraScaling.STANDARD);
            double rs = spread.get(LoraScaling.RS_LORA);
            b.append(String.format(Locale.ROOT, "%nAcross ranks the best alpha spans ×%s with standard scaling and ×%s with rsLoRA: %s%n",
                    DemoCommand.trim(standard), DemoCommand.trim(rs), rs < standard
                            ? "rsLoRA's is the more stable, as dividing by √r is meant to make it."
                            : rs == standard ? "neither is more stable in this study."
                            : "here standard scaling's is the more stable, against what rsLoRA predicts."));
        }
        return b.toString();
    }

    /** "alpha 1 at r 4, 16; alpha 4 at r 16", or "none". */
    private static String byAlpha(List<ScalingRun> runs, Map<ScalingRun, ScalingRegime> regimes, List<Double> alphas,
                                  ScalingRegime which) {
        List<String> parts = new ArrayList<>();
        for (double alpha : alphas) {
            List<String> ranks = runs.stream().filter(r -> r.alpha() == alpha && regimes.get(r) == which)
                    .map(r -> Integer.toString(r.rank())).toList();
            if (!ranks.isEmpty()) {
                parts.add("alpha " + DemoCommand.trim(alpha) + " at r " + String.join(", ", ranks));
            }
        }
        return parts.isEmpty() ? "none" : String.join("; ", parts);
    }
}
