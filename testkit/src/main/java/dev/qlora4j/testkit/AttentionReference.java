package dev.qlora4j.testkit;

/**
 * The f64 oracle of fused causal attention with grouped-query heads, written from the definition:
 * for q [B, H, T, d] and k, v [B, G, T, d] (query head h reads key/value head h / (H/G)),
 * s_ij = scale·q_i·k_j for j ≤ i, p_i = softmax(s_i), out_i = Σ_j p_ij v_j, lse_i = log Σ_j e^s_ij;
 * and its gradients by the chain rule through the softmax: dp_ij = dout_i·v_j,
 * ds_ij = p_ij (dp_ij − Σ_k p_ik dp_ik), dq_i = scale Σ_j ds_ij k_j, dk_j = scale Σ_i ds_ij q_i,
 * dv_j = Σ_i p_ij dout_i. Everything in double, arrays row-major.
 */
public final class AttentionReference {
    private AttentionReference() {
    }

    /** The result: out [B, H, T, d], lse [B, H, T]. */
    public record Forward(double[] out, double[] lse) {
    }

    /** The gradients: dq [B, H, T, d], dk and dv [B, G, T, d]. */
    public record Backward(double[] dq, double[] dk, double[] dv) {
    }

    public static Forward forward(float[] q, float[] k, float[] v, int b, int h, int g, int t, int d, double scale) {
        double[] out = new double[b * h * t * d];
        double[] lse = new double[b * h * t];
        for (int bi = 0; bi < b; bi++) {
            for (int hi = 0; hi < h; hi++) {
                int kv = (bi * g + hi / (h / g)) * t * d;
                for (int i = 0; i < t; i++) {
                    int qi = ((bi * h + hi) * t + i) * d;
                    double[] p = probabilities(q, qi, k, kv, i, d, scale);
                    for (int j = 0; j <= i; j++) {
                        for (int c = 0; c < d; c++) {
                            out[qi + c] += p[j] * v[kv + j * d + c];
                        }
                    }
                    lse[(bi * h + hi) * t + i] = logSumExp(q, qi, k, kv, i, d, scale);
                }
            }
        }
        return new Forward(out, lse);
    }

    public static Backward backward(float[] q, float[] k, float[] v, float[] dout, int b, int h, int g, int t, int d,
                                    double scale) {
        double[] dq = new double[b * h * t * d];
        double[] dk = new double[b * g * t * d];
        double[] dv = new double[b * g * t * d];
        for (int bi = 0; bi < b; bi++) {
            for (int hi = 0; hi < h; hi++) {
                int kv = (bi * g + hi / (h / g)) * t * d;
                for (int i = 0; i < t; i++) {
                    int qi = ((bi * h + hi) * t + i) * d;
                    double[] p = probabilities(q, qi, k, kv, i, d, scale);
                    double[] dp = new double[i + 1];
                    double weighted = 0;
                    for (int j = 0; j <= i; j++) {
                        for (int c = 0; c < d; c++) {
                            dp[j] += (double) dout[qi + c] * v[kv + j * d + c];
                        }
                        weighted += p[j] * dp[j];
                    }
                    for (int j = 0; j <= i; j++) {
                        double ds = p[j] * (dp[j] - weighted);
                        for (int c = 0; c < d; c++) {
                            dq[qi + c] += scale * ds * k[kv + j * d + c];
                            dk[kv + j * d + c] += scale * ds * q[qi + c];
                            dv[kv + j * d + c] += p[j] * dout[qi + c];
                        }
                    }
                }
            }
        }
        return new Backward(dq, dk, dv);
    }

    private static double[] scores(float[] q, int qi, float[] k, int kv, int i, int d, double scale) {
        double[] s = new double[i + 1];
        for (int j = 0; j <= i; j++) {
            double dot = 0;
            for (int c = 0; c < d; c++) {
                dot += (double) q[qi + c] * k[kv + j * d + c];
            }
            s[j] = scale * dot;
        }
        return s;
    }

    private static double logSumExp(float[] q, int qi, float[] k, int kv, int i, int d, double scale) {
        double[] s = scores(q, qi, k, kv, i, d, scale);
        double max = Double.NEGATIVE_INFINITY;
        for (double x : s) {
            max = Math.max(max, x);
        }
        double sum = 0;
        for (double x : s) {
            sum += Math.exp(x - max);
        }
        return max + Math.log(sum);
    }

    private static double[] probabilities(float[] q, int qi, float[] k, int kv, int i, int d, double scale) {
        double[] s = scores(q, qi, k, kv, i, d, scale);
        double lse = logSumExp(q, qi, k, kv, i, d, scale);
        for (int j = 0; j <= i; j++) {
            s[j] = Math.exp(s[j] - lse);
        }
        return s;
    }
}
