package dev.qlora4j.testkit;

/**
 * The scalar oracle for the GEMM kernels: a triple loop in f64 over the elements, so it shares no
 * packing, blocking or vector code with them.
 */
public final class GemmReference {
    private GemmReference() {
    }

    /**
     * {@code a[..., m, k] · b[..., k, n]} (row-major values and their shapes) in f64, row-major {@code [..., m, n]}; {@code b} may be 2-D
     * and shared by every batch. Also returns, per output element, {@code Σ|a·b|}, the scale that
     * bounds the f32 rounding error of any summation order.
     */
    public static Result matmul(float[] av, int[] aShape, float[] bv, int[] bShape) {
        int m = aShape[aShape.length - 2];
        int k = aShape[aShape.length - 1];
        int n = bShape[bShape.length - 1];
        int batch = (int) (av.length / Math.max(1, (long) m * k));
        boolean shared = bShape.length == 2;
        double[] c = new double[batch * m * n];
        double[] scale = new double[c.length];
        for (int bi = 0; bi < batch; bi++) {
            int aBase = bi * m * k;
            int bBase = shared ? 0 : bi * k * n;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    double mag = 0;
                    for (int p = 0; p < k; p++) {
                        double x = (double) av[aBase + i * k + p] * bv[bBase + p * n + j];
                        s += x;
                        mag += Math.abs(x);
                    }
                    c[(bi * m + i) * n + j] = s;
                    scale[(bi * m + i) * n + j] = mag;
                }
            }
        }
        return new Result(c, scale);
    }

    /** Products and their error scales, row-major. */
    public record Result(double[] values, double[] magnitudes) {
    }
}
