package dev.qlora4j.cli;

import java.io.PrintStream;

/**
 * A one-line progress bar with a status (loss, tokens/s) and the time left. On a terminal it redraws
 * in place; otherwise (a pipe, a log, a test) it prints a line at every tenth of the way, so logs stay
 * short and readable.
 */
final class ProgressBar {
    private static final int WIDTH = 24;

    private final PrintStream out;
    private final String label;
    private final int total;
    private final boolean redraw;
    private final long start = System.nanoTime();
    private int lastTenth = -1;

    ProgressBar(PrintStream out, String label, int total) {
        this(out, label, total, out == System.out && System.console() != null);
    }

    ProgressBar(PrintStream out, String label, int total, boolean redraw) {
        this.out = out;
        this.label = label;
        this.total = total;
        this.redraw = redraw;
    }

    /** Reports {@code done} of {@code total} steps, with a status such as "loss 0.0123". */
    void update(int done, String status) {
        int tenth = (int) (10L * done / total);
        if (redraw) {
            out.print("\r" + line(done, status) + "   ");
            if (done == total) {
                out.println();
            }
            out.flush();
        } else if (tenth != lastTenth || done == total) {
            out.println(line(done, status));
        }
        lastTenth = tenth;
    }

    /** Seconds since the bar was created. */
    double elapsedSeconds() {
        return (System.nanoTime() - start) / 1e9;
    }

    private String line(int done, String status) {
        int filled = (int) ((long) WIDTH * done / total);
        double elapsed = elapsedSeconds();
        double left = done == 0 ? 0 : elapsed * (total - done) / done;
        return String.format("%s [%s%s] %d/%d  %s  %s %s", label, "#".repeat(filled), ".".repeat(WIDTH - filled), done,
                total, status, done == total ? "took" : "ETA", clock(done == total ? elapsed : left));
    }

    /** m:ss, or h:mm:ss past an hour. */
    static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String.format("%d:%02d", s / 60, s % 60);
    }
}
