package dev.qlora4j.autograd;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Checks backward against central finite differences. The function's output is reduced to
 * {@code L = Σ out ⊙ p} with a fixed random probe p, so every output element's gradient path is
 * exercised; L is summed in f64 from the f32 outputs, and the derivative of each input element is
 * {@code (L(x + ε) - L(x - ε)) / 2ε}. The kernels compute in f32, so the agreement expected is that of
 * f32 arithmetic: a few parts in a thousand with ε around 1e-2, far tighter than any wrong formula.
 */
public final class GradCheck {
    private GradCheck() {
    }

    /** The largest disagreement found, with where it was. */
    public record Report(double maxError, String where, int checked) {
        public boolean passed(double tolerance) {
            return maxError <= tolerance;
        }
    }

    /**
     * @param f      the function, building its result from the given leaves with {@link F} ops
     * @param inputs F32 tensors, perturbed in place and restored
     * @param eps    the finite-difference step
     * @return the worst {@code |analytic - numeric| / (1 + |numeric|)} over every input element
     */
    public static Report check(Function<List<Var>, Var> f, List<Tensor> inputs, double eps) {
        List<Var> leaves = new ArrayList<>();
        for (Tensor t : inputs) {
            leaves.add(Var.leaf(t, true));
        }
        float[] probe;
        List<float[]> analytic = new ArrayList<>();
        try (Scope scope = Scope.open()) {
            Var out = f.apply(leaves);
            SplittableRandom r = new SplittableRandom(7);
            probe = new float[(int) out.value().numel()];
            for (int i = 0; i < probe.length; i++) {
                probe[i] = (float) (r.nextDouble() * 2 - 1);
            }
            Tensor p = Tensor.of(probe, out.value().shape().dims());
            Var loss = F.sum(F.mul(out, Var.leaf(p, false)));
            Tape.backward(loss);
            for (Var v : leaves) {
                analytic.add(v.grad() == null ? new float[(int) v.value().numel()] : v.grad().toFloatArray());
                v.zeroGrad();
            }
        }
        double worst = 0;
        String where = "none";
        int checked = 0;
        for (int k = 0; k < inputs.size(); k++) {
            Tensor t = inputs.get(k);
            for (long i = 0; i < t.numel(); i++) {
                float original = t.getFlat(i);
                t.setFlat(i, (float) (original + eps));
                double plus = evaluate(f, leaves, probe);
                t.setFlat(i, (float) (original - eps));
                double minus = evaluate(f, leaves, probe);
                t.setFlat(i, original);
                // The actual step may differ from 2ε after rounding the perturbed inputs to f32.
                double step = (double) (float) (original + eps) - (double) (float) (original - eps);
                double numeric = (plus - minus) / step;
                double error = Math.abs(analytic.get(k)[(int) i] - numeric) / (1 + Math.abs(numeric));
                checked++;
                if (error > worst) {
                    worst = error;
                    where = "input " + k + " " + t.describe() + " element " + i + ": backward "
                            + analytic.get(k)[(int) i] + ", finite differences " + numeric;
                }
            }
        }
        return new Report(worst, where, checked);
    }

    private static double evaluate(Function<List<Var>, Var> f, List<Var> leaves, float[] probe) {
        try (Scope scope = Scope.open(); AutoCloseable noGrad = Tape.noGrad()) {
            Tensor out = f.apply(leaves).value();
            try (Tensor o = out.dtype() == DType.F32 ? out.contiguous() : dev.qlora4j.engine.Ops.cast(out, DType.F32)) {
                float[] v = o.toFloatArray();
                double s = 0;
                for (int i = 0; i < v.length; i++) {
                    s += (double) v[i] * probe[i];
                }
                return s;
            }
        } catch (Exception e) {
            throw new IllegalStateException("gradcheck: evaluating the function failed", e);
        }
    }
}
