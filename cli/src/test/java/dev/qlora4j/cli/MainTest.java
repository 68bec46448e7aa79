package dev.qlora4j.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MainTest {
    private record Run(int status, String out, String err) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void helpListsTheCommands() {
        Run r = run("--help");
        assertEquals(0, r.status());
        assertTrue(r.out().contains("info") && r.out().contains("bench"), r.out());
    }

    @Test
    void infoReportsJdkVectorWidthCoresCudaAndMemory() {
        Run r = run("info");
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
        Run unknown = run("frobnicate");
        assertEquals(2, unknown.status());
        assertTrue(unknown.err().contains("unknown command \"frobnicate\""), unknown.err());
        Run extra = run("info", "--bogus");
        assertEquals(2, extra.status());
        assertTrue(extra.err().contains("info takes no arguments"), extra.err());
    }
}
