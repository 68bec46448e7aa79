package dev.qlora4j.testkit;

/** f64 oracles for the row kernels (softmax, RMSNorm, reductions), over row-major float arrays. */
public final class RowReference {
    private RowReference() {
    }

    /** Softmax (or log-softmax) of each row of length {@code n}. */
    public static double[] softmax(float[] x, int n, boolean log) {
        double[] out = new double[x.length];
        for (int r = 0; r < x.length / n; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                max = Math.max(max, x[r * n + i]);
            }
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += Math.exp(x[r * n + i] - max);
            }
            for (int i = 0; i < n; i++) {
                double z = x[r * n + i] - max;
                out[r * n + i] = log ? z - Math.log(sum) : Math.exp(z) / sum;
            }
        }
        return out;
    }

    /** x / sqrt(mean(x²) + eps) * w for each row of length {@code n}. */
    public static double[] rmsNorm(float[] x, float[] w, int n, double eps) {
        double[] out = new double[x.length];
        for (int r = 0; r < x.length / n; r++) {
            double ss = 0;
            for (int i = 0; i < n; i++) {
                ss += (double) x[r * n + i] * x[r * n + i];
            }
            double scale = 1 / Math.sqrt(ss / n + eps);
            for (int i = 0; i < n; i++) {
                out[r * n + i] = x[r * n + i] * scale * w[i];
            }
        }
        return out;
    }

    /**
     * RMSNorm's input gradient for each row of length {@code n}: with r = 1/sqrt(mean(x²) + eps),
     * {@code dx = r·(dy·w − x·r²·mean(dy·w·x))}, the derivative of {@link #rmsNorm} contracted with dy.
     */
    public static double[] rmsNormBackward(float[] x, float[] w, float[] dy, int n, double eps) {
        double[] dx = new double[x.length];
        for (int r = 0; r < x.length / n; r++) {
            double ss = 0;
            double dot = 0;
            for (int i = 0; i < n; i++) {
                ss += (double) x[r * n + i] * x[r * n + i];
                dot += (double) dy[r * n + i] * w[i] * x[r * n + i];
            }
            double scale = 1 / Math.sqrt(ss / n + eps);
            for (int i = 0; i < n; i++) {
                dx[r * n + i] = scale * ((double) dy[r * n + i] * w[i] - x[r * n + i] * scale * scale * dot / n);
            }
        }
        return dx;
    }

    /**
     * Reduction of a row-major array of shape {@code [outer, len, inner]} along the middle axis,
     * giving {@code [outer, inner]}.
     */
    public static double[] reduce(String op, float[] x, int outer, int len, int inner) {
        double[] out = new double[outer * inner];
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < inner; j++) {
                double acc = switch (op) {
                    case "SUM", "MEAN" -> 0;
                    case "MAX" -> Double.NEGATIVE_INFINITY;
                    case "MIN" -> Double.POSITIVE_INFINITY;
                    default -> throw new IllegalArgumentException("no reference for the reduction " + op);
                };
                for (int r = 0; r < len; r++) {
                    double v = x[(o * len + r) * inner + j];
                    acc = switch (op) {
                        case "SUM", "MEAN" -> acc + v;
                        case "MAX" -> Math.max(acc, v);
                        case "MIN" -> Math.min(acc, v);
                        default -> throw new IllegalArgumentException(op);
                    };
                }
                out[o * inner + j] = op.equals("MEAN") ? acc / len : acc;
            }
        }
        return out;
    }
}
