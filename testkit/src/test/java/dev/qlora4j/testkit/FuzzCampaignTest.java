package dev.qlora4j.testkit;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The campaign fails on each thing it promises to catch, and passes a reader that only refuses cleanly. */
class FuzzCampaignTest {
    private static final List<byte[]> SEEDS = List.of("{\"r\": 16, \"shape\": [4096, 64]}".getBytes(StandardCharsets.UTF_8));
    private static final FuzzCampaign.Limits ONE_MIB = FuzzCampaign.Limits.heap(0, 1 << 20);

    /** Stands in for a project reader: refuses with IllegalArgumentException when the input differs from the seed. */
    private static void strictReader(byte[] input) {
        if (!Arrays.equals(input, SEEDS.getFirst())) {
            throw new IllegalArgumentException("not the seed: " + input.length + " bytes");
        }
    }

    @Test
    void mutationsAreSeededAndChangeTheInput() {
        byte[] seed = SEEDS.getFirst();
        assertArrayEquals(Mutator.mutate(seed, 42), Mutator.mutate(seed, 42));
        int changed = 0;
        for (long c = 0; c < 200; c++) {
            changed += Arrays.equals(Mutator.mutate(seed, c), seed) ? 0 : 1;
        }
        assertTrue(changed > 180, changed + " of 200 mutations changed the seed");
        assertEquals("{\"r\": 16, \"shape\": [4096, 64]}", new String(seed, StandardCharsets.UTF_8));
    }

    @Test
    void cleanRefusalsPass() {
        FuzzCampaign.Outcome o = FuzzCampaign.run("clean", SEEDS, Set.of(IllegalArgumentException.class), ONE_MIB,
                FuzzCampaignTest::strictReader);
        assertTrue(o.cases() > 0 && o.refused() > 0, o.toString());
    }

    @Test
    void aJdkExceptionPassedThroughFails() {
        AssertionError e = assertThrows(AssertionError.class, () -> FuzzCampaign.run("npe", SEEDS,
                Set.of(IllegalArgumentException.class), ONE_MIB, input -> {
                    String s = new String(input, StandardCharsets.UTF_8);
                    // The JDK's NumberFormatException or StringIndexOutOfBoundsException on most mutations.
                    Integer.parseInt(s.substring(6, 8));
                }));
        assertTrue(e.getMessage().contains("Exception") && e.getMessage().contains("which is not a refusal"), e.getMessage());
        assertFalse(FuzzCampaign.isRefusal(new NullPointerException("x"), Set.of(IllegalArgumentException.class)));
        assertFalse(FuzzCampaign.isRefusal(new IllegalArgumentException(""), Set.of(IllegalArgumentException.class)));
    }

    @Test
    void aCaseAllocatingMoreThanItsInputAllowsFails() {
        AssertionError e = assertThrows(AssertionError.class, () -> FuzzCampaign.run("heap", SEEDS,
                Set.of(IllegalArgumentException.class), ONE_MIB, input -> {
                    long[] table = new long[input.length * 10_000];
                    table[0] = input.length;
                }));
        assertTrue(e.getMessage().contains("heap bytes"), e.getMessage());
    }

    @Test
    void nativeMemoryLeftBehindOrTooMuchOfItFails() {
        long[] counters = new long[2]; // live, peak
        FuzzCampaign.NativeMemory memory = new FuzzCampaign.NativeMemory(() -> counters[0], () -> counters[1],
                () -> counters[1] = counters[0]);
        AssertionError leak = assertThrows(AssertionError.class, () -> FuzzCampaign.run("leak", SEEDS,
                Set.of(IllegalArgumentException.class), ONE_MIB.withNative(memory, 0, 1 << 20), input -> {
                    counters[0] += 64;
                    counters[1] = Math.max(counters[1], counters[0]);
                    strictReader(input);
                    counters[0] -= 64;
                }));
        assertTrue(leak.getMessage().contains("left 64 native bytes allocated"), leak.getMessage());
        counters[0] = 0;
        AssertionError big = assertThrows(AssertionError.class, () -> FuzzCampaign.run("big", SEEDS,
                Set.of(IllegalArgumentException.class), ONE_MIB.withNative(memory, 1, 1000), input -> {
                    counters[1] = Math.max(counters[1], counters[0] + 4096L * input.length);
                }));
        assertTrue(big.getMessage().contains("native bytes at its peak"), big.getMessage());
    }
}
