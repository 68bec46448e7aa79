package dev.qlora4j.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code qlora4j rank-sweep}: LoRA's parameter arithmetic and a measured row per rank. */
class RankSweepCommandTest {
    @Test
    void countsForALayerAndAModelAndAMeasuredRowPerRank() {
        CommandRun r = CommandRun.of("rank-sweep", "--ranks", "8,64", "--tokens", "4", "--repeats", "1");
        assertEquals(0, r.status(), r.err());
        // r = 8 on a 4096×4096 layer: A [8, 4096] + B [4096, 8] = 65,536 parameters = 0.39% of 16,777,216.
        assertTrue(r.out().matches("(?s).*\\n +8 +65,536 +0\\.39% .*"), r.out());
        // Llama 2 7B, q and v (4096→4096 each) in 32 layers, r = 64: 32 · 2 · 64 · 8192 = 33,554,432,
        // 0.498% of 6,738,415,616.
        assertTrue(r.out().matches("(?s).*\\n +64 +524,288 +3\\.13% +33,554,432 +0\\.498%.*"), r.out());
        long measuredRows = r.out().lines().filter(l -> l.matches(" +(8|64) +[0-9.]+ +[0-9.]+ [KM]iB +[0-9.]+ +[0-9.]+ [KM]iB")).count();
        assertEquals(2, measuredRows, r.out());
    }

    @Test
    void badRanksAreRefused() {
        for (String ranks : new String[]{"0", "four", ","}) {
            CommandRun r = CommandRun.of("rank-sweep", "--ranks", ranks);
            assertEquals(2, r.status(), ranks);
            assertTrue(r.err().contains("--ranks"), r.err());
        }
    }
}
