package dev.qlora4j.autograd;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Scope;
import dev.qlora4j.engine.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every differentiable op's backward against central finite differences. */
class GradCheckTest {
    private static final double TOLERANCE = 5e-3;
    private final List<Tensor> owned = new ArrayList<>();
    private final SplittableRandom random = new SplittableRandom(11);

    private Tensor rand(double lo, double hi, int... dims) {
        int n = 1;
        for (int d : dims) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (lo + random.nextDouble() * (hi - lo));
        }
        Tensor t = Tensor.of(v, dims);
        owned.add(t);
        return t;
    }

    @AfterEach
    void close() {
        owned.forEach(Tensor::close);
    }

    private static void check(String what, Function<List<Var>, Var> f, Tensor... inputs) {
        GradCheck.Report r = GradCheck.check(f, List.of(inputs), 1e-2);
        assertTrue(r.passed(TOLERANCE), what + ": worst error " + r.maxError() + " at " + r.where());
        assertTrue(r.checked() > 0);
    }

    @Test
    void matmulPlainBatchedAndWithASharedWeight() {
        check("matmul", v -> F.matmul(v.get(0), v.get(1)), rand(-1, 1, 3, 5), rand(-1, 1, 5, 4));
        check("batched matmul", v -> F.matmul(v.get(0), v.get(1)), rand(-1, 1, 2, 3, 5), rand(-1, 1, 2, 5, 4));
        check("x·Wᵀ with a shared weight", v -> F.matmul(v.get(0), F.transpose(v.get(1), 0, 1)),
                rand(-1, 1, 2, 3, 5), rand(-1, 1, 4, 5));
    }

    @Test
    void elementwiseWithBroadcasting() {
        check("add", v -> F.add(v.get(0), v.get(1)), rand(-1, 1, 3, 4), rand(-1, 1, 4));
        check("sub", v -> F.sub(v.get(0), v.get(1)), rand(-1, 1, 3, 1), rand(-1, 1, 1, 4));
        check("mul", v -> F.mul(v.get(0), v.get(1)), rand(-1, 1, 2, 3, 4), rand(-1, 1, 3, 1));
        check("div", v -> F.div(v.get(0), v.get(1)), rand(-1, 1, 3, 4), rand(0.5, 2, 4));
    }

    @Test
    void unaryOps() {
        check("exp", v -> F.exp(v.get(0)), rand(-2, 2, 3, 5));
        check("log", v -> F.log(v.get(0)), rand(0.5, 3, 3, 5));
        check("silu", v -> F.silu(v.get(0)), rand(-4, 4, 3, 5));
    }

    @Test
    void reductionsAndViews() {
        check("sum axis", v -> F.sum(v.get(0), 1, false), rand(-1, 1, 3, 4, 2));
        check("mean axis kept", v -> F.mean(v.get(0), -1, true), rand(-1, 1, 3, 4));
        check("sum all", v -> F.sum(v.get(0)), rand(-1, 1, 3, 4));
        check("mean all", v -> F.mean(v.get(0)), rand(-1, 1, 3, 4));
        check("reshape and transpose", v -> F.transpose(F.reshape(v.get(0), 4, 3), 0, 1), rand(-1, 1, 2, 6));
    }

    @Test
    void softmaxLogSoftmaxAndRmsNorm() {
        check("softmax", v -> F.softmax(v.get(0)), rand(-2, 2, 3, 7));
        check("logSoftmax", v -> F.logSoftmax(v.get(0)), rand(-2, 2, 3, 7));
        check("rmsNorm", v -> F.rmsNorm(v.get(0), v.get(1), 1e-5f), rand(-2, 2, 3, 8), rand(0.5, 1.5, 8));
    }

    @Test
    void embeddingAndCrossEntropyWithIgnoredTargets() {
        try (Tensor ids = Tensor.of(DType.I32, new float[]{2, 0, 2, 4}, 2, 2);
             Tensor targets = Tensor.of(DType.I32, new float[]{1, -100, 3, 0}, 4)) {
            check("embedding (a repeated id accumulates)", v -> F.embedding(ids, v.get(0)), rand(-1, 1, 5, 3));
            check("crossEntropy", v -> F.crossEntropy(v.get(0), targets, -100), rand(-2, 2, 4, 6));
            // An ignored row contributes neither to the loss nor to the gradient.
            try (Scope s = Scope.open()) {
                Var logits = Var.leaf(rand(-2, 2, 4, 6), true);
                Var loss = F.crossEntropy(logits, targets, -100);
                double expected = 0;
                int[] t = {1, -100, 3, 0};
                for (int i = 0; i < 4; i++) {
                    if (t[i] == -100) {
                        continue;
                    }
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < 6; j++) {
                        max = Math.max(max, logits.value().getFloat(i, j));
                    }
                    double z = 0;
                    for (int j = 0; j < 6; j++) {
                        z += Math.exp(logits.value().getFloat(i, j) - max);
                    }
                    expected -= logits.value().getFloat(i, t[i]) - max - Math.log(z);
                }
                assertEquals(expected / 3, loss.value().getFlat(0), 1e-5);
                Tape.backward(loss);
                for (int j = 0; j < 6; j++) {
                    assertEquals(0f, logits.grad().getFloat(1, j));
                }
            }
        }
    }

    @Test
    void ropeAndCausalGroupedQueryAttention() {
        check("rope", v -> F.rope(v.get(0), 3, 10000.0), rand(-1, 1, 1, 2, 5, 8));
        // 4 query heads sharing 2 key/value heads, 5 tokens, head dim 4.
        check("causal attention with grouped-query heads",
                v -> F.causalAttention(v.get(0), v.get(1), v.get(2)),
                rand(-1, 1, 1, 4, 5, 4), rand(-1, 1, 1, 2, 5, 4), rand(-1, 1, 1, 2, 5, 4));
        check("swiglu", v -> F.swiglu(v.get(0), v.get(1)), rand(-3, 3, 2, 6), rand(-1, 1, 2, 6));
    }

    @Test
    void ropeRotatesPairsByPositionAndAttentionIsCausal() {
        try (Scope s = Scope.open()) {
            // rotate-half pairs element i with i + hd/2: for x = e_0 at position p, y[0] = cos(p), y[hd/2] = sin(p).
            int hd = 8;
            Tensor x = Tensor.zeros(DType.F32, 1, 1, 3, hd);
            for (int t = 0; t < 3; t++) {
                x.setFloat(1f, 0, 0, t, 0);
            }
            Var y = F.rope(Var.leaf(x, false), 4, 10000.0);
            for (int t = 0; t < 3; t++) {
                assertEquals(Math.cos(4 + t), y.value().getFloat(0, 0, t, 0), 1e-6);
                assertEquals(Math.sin(4 + t), y.value().getFloat(0, 0, t, hd / 2), 1e-6);
            }
            // Changing the last token leaves every earlier output unchanged.
            Tensor q = rand(-1, 1, 1, 2, 4, 4);
            Tensor k = rand(-1, 1, 1, 1, 4, 4);
            Tensor v = rand(-1, 1, 1, 1, 4, 4);
            float[] before = F.causalAttention(Var.leaf(q, false), Var.leaf(k, false), Var.leaf(v, false)).value().toFloatArray();
            k.setFloat(5f, 0, 0, 3, 0);
            v.setFloat(-7f, 0, 0, 3, 1);
            float[] after = F.causalAttention(Var.leaf(q, false), Var.leaf(k, false), Var.leaf(v, false)).value().toFloatArray();
            for (int h = 0; h < 2; h++) {
                for (int t = 0; t < 3; t++) {
                    for (int d = 0; d < 4; d++) {
                        int i = (h * 4 + t) * 4 + d;
                        assertEquals(before[i], after[i], "head " + h + " token " + t);
                    }
                }
            }
        }
    }

    @Test
    void aVarUsedTwiceAccumulatesBothPaths() {
        // y = silu(x·W1)·W2 + x·W1: x·W1 feeds two branches; a two-layer network end to end.
        check("shared intermediate", v -> {
            Var h = F.matmul(v.get(0), v.get(1));
            return F.add(F.matmul(F.silu(h), v.get(2)), h);
        }, rand(-1, 1, 4, 6), rand(-1, 1, 6, 5), rand(-1, 1, 5, 5));
    }

    @Test
    void backwardFillsOnlyWhatRequiresAGradientAndFreesIntermediates() {
        try (Scope s = Scope.open()) {
            Var x = Var.leaf(rand(-1, 1, 2, 3), false);
            Var w = Var.leaf(rand(-1, 1, 3, 4), true);
            Var h = F.silu(F.matmul(x, w));
            Var loss = F.sum(h);
            Tape.backward(loss);
            assertNull(x.grad());
            assertNull(h.grad(), "an intermediate's gradient is freed once used");
            assertEquals(dev.qlora4j.engine.Shape.of(3, 4), w.grad().shape());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tape.backward(h));
            assertTrue(e.getMessage().contains("single element"), e.getMessage());
        }
    }

    @Test
    void sliceConcatDropoutAndGelu() {
        check("slice", v -> F.slice(v.get(0), 1, 1, 3), rand(-1, 1, 2, 4, 3));
        check("concat", v -> F.concat(List.of(v.get(0), v.get(1)), -1), rand(-1, 1, 2, 3), rand(-1, 1, 2, 5));
        check("dropout", v -> F.dropout(v.get(0), 0.3, 17), rand(-1, 1, 4, 6));
        check("geluTanh", v -> F.geluTanh(v.get(0)), rand(-3, 3, 3, 5));
        try (Scope s = Scope.open()) {
            Tensor x = rand(1, 2, 1000);
            Var y = F.dropout(Var.leaf(x, true), 0.25, 3);
            int zeros = 0;
            for (int i = 0; i < 1000; i++) {
                float v = y.value().getFlat(i);
                if (v == 0) {
                    zeros++;
                } else {
                    assertEquals(x.getFlat(i) / 0.75f, v, 1e-6);
                }
            }
            assertTrue(zeros > 200 && zeros < 300, zeros + " of 1000 dropped at p = 0.25");
        }
    }

    @Test
    void gradientsOfMicroBatchesAccumulateAcrossScopes() {
        Tensor w = rand(-1, 1, 4, 3);
        Tensor x = rand(-1, 1, 6, 4);
        Var wv = Var.leaf(w, true);
        float[] full;
        try (Scope s = Scope.open()) {
            Tape.backward(F.sum(F.silu(F.matmul(Var.leaf(x, false), wv))));
            full = wv.grad().toFloatArray();
        }
        wv.zeroGrad();
        for (int half = 0; half < 2; half++) {
            try (Scope s = Scope.open(); Tensor part = x.slice(0, 3 * half, 3 * half + 3)) {
                Tape.backward(F.sum(F.silu(F.matmul(Var.leaf(part, false), wv))));
            }
        }
        float[] accumulated = wv.grad().toFloatArray();
        for (int i = 0; i < full.length; i++) {
            assertEquals(full[i], accumulated[i], 1e-5, "element " + i);
        }
        wv.zeroGrad();
    }

    @Test
    void aNonFiniteLossStopsBackwardWithoutTouchingGradients() {
        Var w = Var.leaf(rand(-1, 1, 3), true);
        try (Scope s = Scope.open(); Tensor zero = Tensor.zeros(DType.F32, 3)) {
            Var loss = F.sum(F.log(F.mul(w, Var.leaf(zero, false)))); // log 0 = -inf
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Tape.backward(loss));
            assertTrue(e.getMessage().contains("-Infinity"), e.getMessage());
            assertNull(w.grad());
        }
    }

    @Test
    void noGradRecordsNothing() throws Exception {
        Var w = Var.leaf(rand(-1, 1, 3, 3), true);
        try (Scope s = Scope.open(); AutoCloseable off = Tape.noGrad()) {
            Var y = F.matmul(w, w);
            assertTrue(!y.requiresGrad());
            assertThrows(IllegalArgumentException.class, () -> Tape.backward(F.sum(y)));
        }
        assertEquals(DType.F32, w.value().dtype());
    }
}
