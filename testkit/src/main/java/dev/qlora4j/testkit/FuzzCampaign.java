package dev.qlora4j.testkit;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * A bounded, seeded fuzz campaign: each case mutates one of the valid seed files ({@link Mutator})
 * and hands it to a reader, which must either accept it or refuse it with one of the project's own
 * refusals — an exception of an allowed type, raised by project code, with a message. Anything
 * else (a NullPointerException, an index out of bounds, an ArithmeticException, an
 * OutOfMemoryError, a JDK exception passed through bare) fails the campaign. So does a case that
 * allocates more Java heap or native memory than its input's size allows, or that leaves native
 * memory allocated once it returns.
 *
 * <p>Bounded for CI by {@code qlora4j.fuzz.cases} (default 5000 per campaign) and
 * {@code qlora4j.fuzz.seconds} (default 15); a longer campaign on demand raises both and may change
 * {@code qlora4j.fuzz.seed}. A failing input is saved under {@code target/fuzz-failures/} and the
 * message gives the seed and case that regenerate it.
 */
public final class FuzzCampaign {
    /** Reads one input completely (parse, touch every part, close what it opened). */
    @FunctionalInterface
    public interface Target {
        void accept(byte[] input) throws Exception;
    }

    /** The native allocator's counters (bytes in use, their peak since the last reset), which a case must leave as it found them. */
    public record NativeMemory(java.util.function.LongSupplier live, java.util.function.LongSupplier peak, Runnable resetPeak) {
    }

    /**
     * What one case may allocate: {@code perByte} × the input's length + {@code fixed}, on the Java
     * heap and (when {@code nativeMemory} is given) natively.
     */
    public record Limits(long heapPerByte, long heapFixed, NativeMemory nativeMemory, long nativePerByte, long nativeFixed) {
        public static Limits heap(long perByte, long fixed) {
            return new Limits(perByte, fixed, null, 0, 0);
        }

        public Limits withNative(NativeMemory memory, long perByte, long fixed) {
            return new Limits(heapPerByte, heapFixed, memory, perByte, fixed);
        }
    }

    /** How the cases ended. */
    public record Outcome(int cases, int accepted, int refused) {
    }

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private FuzzCampaign() {
    }

    public static Outcome run(String name, List<byte[]> seeds, Set<Class<? extends Throwable>> refusals, Limits limits,
                              Target target) {
        int cases = Integer.getInteger("qlora4j.fuzz.cases", 5000);
        long deadline = System.nanoTime() + Long.getLong("qlora4j.fuzz.seconds", 15) * 1_000_000_000L;
        long seed = Long.getLong("qlora4j.fuzz.seed", 20261207L);
        // Each seed is read unmutated first: it must be accepted (a refused seed would fuzz nothing but
        // its first check), and the one-time allocations of loading classes are not charged to a case.
        for (int k = 0; k < seeds.size(); k++) {
            try {
                target.accept(seeds.get(k).clone());
            } catch (Exception e) {
                throw new AssertionError(name + " seed " + k + " is refused, so it cannot be fuzzed: " + e, e);
            }
        }
        int accepted = 0;
        int refused = 0;
        int done = 0;
        for (int i = 0; i < cases && System.nanoTime() < deadline; i++, done++) {
            byte[] input = Mutator.mutate(seeds.get(i % seeds.size()), seed * 0x9E3779B97F4A7C15L + i);
            long heapBefore = THREADS.getCurrentThreadAllocatedBytes();
            long liveBefore = 0;
            if (limits.nativeMemory() != null) {
                limits.nativeMemory().resetPeak().run();
                liveBefore = limits.nativeMemory().live().getAsLong();
            }
            try {
                target.accept(input);
                accepted++;
            } catch (Throwable t) {
                if (!isRefusal(t, refusals)) {
                    throw failure(name, seed, i, input, "threw " + t + ", which is not a refusal of " + refusals
                            + " raised by qlora4j with a message", t);
                }
                refused++;
            }
            long heap = THREADS.getCurrentThreadAllocatedBytes() - heapBefore;
            long heapAllowed = limits.heapPerByte() * input.length + limits.heapFixed();
            if (heap > heapAllowed) {
                throw failure(name, seed, i, input, "allocated " + heap + " heap bytes for a " + input.length
                        + "-byte input; allowed " + heapAllowed, null);
            }
            if (limits.nativeMemory() != null) {
                long live = limits.nativeMemory().live().getAsLong();
                if (live != liveBefore) {
                    throw failure(name, seed, i, input, "left " + (live - liveBefore) + " native bytes allocated", null);
                }
                long peak = limits.nativeMemory().peak().getAsLong() - liveBefore;
                long nativeAllowed = limits.nativePerByte() * input.length + limits.nativeFixed();
                if (peak > nativeAllowed) {
                    throw failure(name, seed, i, input, "allocated " + peak + " native bytes at its peak for a "
                            + input.length + "-byte input; allowed " + nativeAllowed, null);
                }
            }
        }
        System.out.printf("fuzz %s: %d cases (seed %d), %d accepted, %d refused%n", name, done, seed, accepted, refused);
        return new Outcome(done, accepted, refused);
    }

    /** One of the allowed types, constructed in project code (not a JDK exception passed through), with a message. */
    static boolean isRefusal(Throwable t, Set<Class<? extends Throwable>> refusals) {
        if (t instanceof NumberFormatException || refusals.stream().noneMatch(c -> c.isInstance(t))) {
            return false;
        }
        StackTraceElement[] where = t.getStackTrace();
        return where.length > 0 && where[0].getClassName().startsWith("dev.qlora4j.")
                && t.getMessage() != null && !t.getMessage().isBlank();
    }

    private static AssertionError failure(String name, long seed, int i, byte[] input, String what, Throwable cause) {
        String saved;
        try {
            Path dir = Files.createDirectories(Path.of("target", "fuzz-failures"));
            saved = Files.write(dir.resolve(name + "-" + seed + "-" + i + ".bin"), input).toAbsolutePath().toString();
        } catch (java.io.IOException e) {
            saved = "(not saved: " + e + ")";
        }
        return new AssertionError(name + " fuzz case " + i + " (-Dqlora4j.fuzz.seed=" + seed + ") " + what
                + "; the input is at " + saved, cause);
    }
}
