package dev.qlora4j.cli;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The scaling study's loss curves as an SVG: a grid of panels, one row per scaling kind and one
 * column per rank, one line per alpha, on a shared log-scale loss axis so panels compare at a glance.
 * A diverged run's line ends in a cross.
 */
final class LossCurvePlot {
    private static final double PANEL_W = 300;
    private static final double PANEL_H = 210;
    private static final double LEFT = 70;
    private static final double TOP = 70;
    private static final double GAP_X = 30;
    private static final double GAP_Y = 70;
    private static final double LEGEND_W = 170;
    /** Distinguishable on white, ordered dark to warm so low to high alpha reads as a ramp. */
    private static final List<String> COLORS = List.of("#3b0f70", "#2c5fa8", "#1f9e89", "#6cc24a", "#c9a400", "#f07f1d",
            "#d62728", "#8c1c13", "#e377c2", "#7f7f7f");

    private LossCurvePlot() {
    }

    /**
     * @param title    the heading
     * @param subtitle the settings, e.g. learning rate and steps
     */
    static String svg(List<ScalingRun> runs, Map<ScalingRun, ScalingRegime> regimes, List<LoraScaling> kinds, List<Integer> ranks, List<Double> alphas, int steps,
                      String title, String subtitle) {
        double width = LEFT + ranks.size() * (PANEL_W + GAP_X) + LEGEND_W;
        double height = TOP + kinds.size() * (PANEL_H + GAP_Y);
        SvgWriter w = new SvgWriter(width, height);
        w.rect(0, 0, width, height, "white", "none");
        w.text(LEFT, 28, title, 18, "start", 0);
        w.text(LEFT, 50, subtitle, 12, "start", 0);

        double[] decades = decades(runs);
        for (int k = 0; k < kinds.size(); k++) {
            for (int c = 0; c < ranks.size(); c++) {
                double x0 = LEFT + c * (PANEL_W + GAP_X);
                double y0 = TOP + k * (PANEL_H + GAP_Y);
                panel(w, x0, y0, kinds.get(k), ranks.get(c), alphas, runs, regimes, steps, decades);
            }
        }
        legend(w, LEFT + ranks.size() * (PANEL_W + GAP_X), TOP, alphas);
        return w.finish();
    }

    /** The shared y range in powers of ten: [floor(log10 min), ceil(log10 max)] over every loss recorded. */
    private static double[] decades(List<ScalingRun> runs) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (ScalingRun r : runs) {
            for (float l : r.losses()) {
                if (l > 0) {
                    lo = Math.min(lo, l);
                    hi = Math.max(hi, l);
                }
            }
        }
        if (lo > hi) {
            return new double[]{-1, 1};
        }
        double top = Math.ceil(Math.log10(hi));
        double bottom = Math.floor(Math.log10(lo));
        return new double[]{Math.max(bottom, top - 8), Math.max(top, bottom + 1)};
    }

    private static void panel(SvgWriter w, double x0, double y0, LoraScaling kind, int rank, List<Double> alphas,
                              List<ScalingRun> runs, Map<ScalingRun, ScalingRegime> regimes, int steps, double[] decades) {
        w.rect(x0, y0, PANEL_W, PANEL_H, "#fbfbfb", "#444444");
        w.text(x0 + PANEL_W / 2, y0 - 8, kind.label + " (s = " + kind.formula + "), r = " + rank, 13, "middle", 0);
        for (int d = (int) decades[0]; d <= decades[1]; d++) {
            double y = y(d, y0, decades);
            w.line(x0, y, x0 + PANEL_W, y, "#e0e0e0", 1);
            w.line(x0 - 4, y, x0, y, "#444444", 1);
            w.text(x0 - 6, y + 4, decadeLabel(d), 10, "end", 0);
        }
        int tick = niceStep(steps);
        for (int s = 0; s <= steps; s += tick) {
            double x = x(s, x0, steps);
            w.line(x, y0 + PANEL_H, x, y0 + PANEL_H + 4, "#444444", 1);
            w.text(x, y0 + PANEL_H + 16, Integer.toString(s), 10, "middle", 0);
        }
        w.text(x0 + PANEL_W / 2, y0 + PANEL_H + 32, "step", 11, "middle", 0);
        w.text(x0 - 44, y0 + PANEL_H / 2, "loss (log scale)", 11, "middle", -90);
        for (ScalingRun r : runs) {
            if (r.scaling() != kind || r.rank() != rank || r.losses().length == 0) {
                continue;
            }
            String color = COLORS.get(alphas.indexOf(r.alpha()) % COLORS.size());
            float[] l = r.losses();
            double[] xy = new double[2 * l.length];
            for (int i = 0; i < l.length; i++) {
                xy[2 * i] = x(i + 1, x0, steps);
                xy[2 * i + 1] = y(Math.log10(Math.max(l[i], Math.pow(10, decades[0]))), y0, decades);
            }
            w.polyline(xy, color, 1.5, String.format(Locale.ROOT, "%s r=%d alpha=%s s=%.4g: %s", kind.label, rank,
                    DemoCommand.trim(r.alpha()), r.factor(), regimes.get(r).describe(r)));
            if (r.diverged()) {
                double cx = xy[xy.length - 2];
                double cy = xy[xy.length - 1];
                w.line(cx - 5, cy - 5, cx + 5, cy + 5, color, 2);
                w.line(cx - 5, cy + 5, cx + 5, cy - 5, color, 2);
            }
        }
    }

    private static void legend(SvgWriter w, double x0, double y0, List<Double> alphas) {
        w.text(x0 + 10, y0 + 4, "alpha", 13, "start", 0);
        for (int i = 0; i < alphas.size(); i++) {
            double y = y0 + 24 + 20 * i;
            w.line(x0 + 10, y - 4, x0 + 40, y - 4, COLORS.get(i % COLORS.size()), 2.5);
            w.text(x0 + 48, y, DemoCommand.trim(alphas.get(i)), 12, "start", 0);
        }
        double y = y0 + 24 + 20 * alphas.size() + 10;
        w.line(x0 + 20, y - 9, x0 + 30, y + 1, "#444444", 2);
        w.line(x0 + 20, y + 1, x0 + 30, y - 9, "#444444", 2);
        w.text(x0 + 48, y, "diverged, stopped", 12, "start", 0);
    }

    private static double x(double step, double x0, int steps) {
        return x0 + PANEL_W * step / steps;
    }

    private static double y(double log10, double y0, double[] decades) {
        return y0 + PANEL_H * (decades[1] - log10) / (decades[1] - decades[0]);
    }

    /** 1, 10, 0.1, ... and 1e-4 past three places. */
    private static String decadeLabel(int d) {
        if (d >= 0 && d <= 4) {
            return Long.toString((long) Math.pow(10, d));
        }
        return d >= -3 ? String.format(Locale.ROOT, "%." + (-d) + "f", Math.pow(10, d)) : "1e" + d;
    }

    /** 1, 2 or 5 times a power of ten, giving four to ten ticks. */
    private static int niceStep(int steps) {
        for (int p = 1; ; p *= 10) {
            for (int m : new int[]{1, 2, 5}) {
                if (steps / (m * p) <= 8) {
                    return m * p;
                }
            }
        }
    }
}
