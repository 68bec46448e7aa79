package dev.qlora4j.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MainTest {

    @Test
    void helpListsTheCommands() {
        CommandRun r = CommandRun.of("--help");
        assertEquals(0, r.status());
        assertTrue(r.out().contains("info") && r.out().contains("bench"), r.out());
    }

    @Test
    void infoReportsJdkVectorWidthCoresCudaAndMemory() {
        CommandRun r = CommandRun.of("info");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("JDK         " + Runtime.version()), r.out());
        assertTrue(r.out().contains(jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit")
                || System.getProperty("qlora4j.vector.bits") != null, r.out());
        assertTrue(r.out().contains(Runtime.getRuntime().availableProcessors() + " cores available"), r.out());
        assertTrue(r.out().matches("(?s).*CUDA        (runtime|not usable: ).*"), r.out());
        assertTrue(r.out().contains("Native mem"), r.out());
    }

    @Test
    void badUsageExitsWithTwoAndSaysWhy() {
        CommandRun unknown = CommandRun.of("frobnicate");
        assertEquals(2, unknown.status());
        assertTrue(unknown.err().contains("unknown command \"frobnicate\""), unknown.err());
        CommandRun extra = CommandRun.of("info", "--bogus");
        assertEquals(2, extra.status());
        assertTrue(extra.err().contains("info takes no arguments"), extra.err());
    }
}
