package dev.qlora4j.cli;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The scaling study's results, one row per run, as a Markdown table (also what is printed) and as CSV. */
final class ScalingTable {
    private ScalingTable() {
    }

    static String markdown(List<ScalingRun> runs, Map<ScalingRun, ScalingRegime> regimes) {
        StringBuilder b = new StringBuilder();
        b.append("| scaling  | rank |  alpha |        s | start loss | final loss | accuracy | status |\n");
        b.append("|----------|-----:|-------:|---------:|-----------:|-----------:|---------:|--------|\n");
        for (ScalingRun r : runs) {
            b.append(String.format(Locale.ROOT, "| %-8s | %4d | %6s | %8s | %10s | %10s | %7.1f%% | %s |%n",
                    r.scaling().label, r.rank(), DemoCommand.trim(r.alpha()), factor(r.factor()), loss(r.startLoss()),
                    loss(r.finalLoss()), 100 * r.accuracy(), regimes.get(r).describe(r)));
        }
        return b.toString();
    }

    /** Full precision for analysis; an empty cell where a loss was never finite. */
    static String csv(List<ScalingRun> runs, Map<ScalingRun, ScalingRegime> regimes) {
        StringBuilder b = new StringBuilder("scaling,rank,alpha,s,start_loss,final_loss,accuracy,status\n");
        for (ScalingRun r : runs) {
            b.append(String.join(",", r.scaling().label, Integer.toString(r.rank()), DemoCommand.trim(r.alpha()),
                    Double.toString(r.factor()), exact(r.startLoss()), exact(r.finalLoss()), Double.toString(r.accuracy()),
                    regimes.get(r).describe(r))).append('\n');
        }
        return b.toString();
    }

    private static String factor(double s) {
        return String.format(Locale.ROOT, s >= 1000 ? "%.0f" : "%.4g", s);
    }

    private static String loss(double l) {
        return Double.isNaN(l) ? "—" : String.format(Locale.ROOT, l >= 0.001 ? "%.4f" : "%.2e", l);
    }

    private static String exact(double l) {
        return Double.isNaN(l) ? "" : Double.toString(l);
    }
}
