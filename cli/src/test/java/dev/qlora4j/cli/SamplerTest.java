package dev.qlora4j.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The sampler's draws against the probabilities computed independently in f64. */
class SamplerTest {
    // Logits ln(0.4), ln(0.3), ln(0.2), ln(0.1): at temperature 1 the probabilities are exactly those.
    private static final float[] LOGITS = {(float) Math.log(0.4), (float) Math.log(0.3), (float) Math.log(0.2), (float) Math.log(0.1)};

    @Test
    void temperatureZeroIsGreedy() {
        assertEquals(2, new Sampler(0, 1, 1).next(new float[]{0.5f, -1f, 3f, 2.9f}));
    }

    @Test
    void fullNucleusDrawsTheSoftmaxDistribution() {
        double[] freq = draws(new Sampler(1, 1, 7), 40_000);
        double[] expected = {0.4, 0.3, 0.2, 0.1};
        for (int i = 0; i < 4; i++) {
            // 40,000 draws: standard error at p = 0.4 is 0.0024; 0.01 is four of them.
            assertEquals(expected[i], freq[i], 0.01, "token " + i);
        }
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        // p = 0.5: 0.4 alone falls short, 0.4 + 0.3 reaches it; renormalized: 4/7 and 3/7, never 2 or 3.
        double[] freq = draws(new Sampler(1, 0.5, 3), 40_000);
        assertEquals(4.0 / 7, freq[0], 0.01);
        assertEquals(3.0 / 7, freq[1], 0.01);
        assertEquals(0.0, freq[2] + freq[3]);
    }

    @Test
    void temperatureSharpens() {
        // T = 0.5 squares the probabilities: 0.16, 0.09, 0.04, 0.01 over 0.30.
        double[] freq = draws(new Sampler(0.5, 1, 5), 40_000);
        assertEquals(0.16 / 0.30, freq[0], 0.01);
        assertEquals(0.01 / 0.30, freq[3], 0.005);
    }

    @Test
    void badSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Sampler(-1, 0.9, 1));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(1, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(1, 1.5, 1));
    }

    private static double[] draws(Sampler s, int n) {
        double[] f = new double[LOGITS.length];
        for (int i = 0; i < n; i++) {
            f[s.next(LOGITS)] += 1.0 / n;
        }
        return f;
    }
}
