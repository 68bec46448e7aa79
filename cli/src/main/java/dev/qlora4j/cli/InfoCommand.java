package dev.qlora4j.cli;

import dev.qlora4j.engine.Allocator;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.MemoryStats;

import java.io.PrintStream;
import java.util.List;

/** {@code qlora4j info}: what this machine gives the engine. */
final class InfoCommand implements Command {
    @Override
    public String name() {
        return "info";
    }

    @Override
    public String summary() {
        return "JDK, vector width, cores, CUDA availability and native memory in use";
    }

    @Override
    public String usage() {
        return """
                usage: qlora4j info

                Prints the JDK running the engine, the SIMD width its CPU kernels use (force one with
                -Dqlora4j.vector.bits=128|256|512 in JAVA_OPTS), the cores and kernel threads
                (-Dqlora4j.threads=N), whether CUDA can be used and if not why, and the native bytes the
                engine holds.""";
    }

    @Override
    public int run(List<String> args, PrintStream out) throws UsageException {
        if (!args.isEmpty()) {
            throw new UsageException("info takes no arguments, got " + args);
        }
        Runtime.Version v = Runtime.version();
        out.printf("qlora4j     %s%n", Main.version());
        out.printf("JDK         %s (%s) at %s%n", v, System.getProperty("java.vendor"), System.getProperty("java.home"));
        // The CPU backend's line: its vector width (and the hardware's preferred one) and threads.
        out.printf("Vector API  %s%n", Device.availability(Device.Kind.CPU).detail());
        out.printf("CPU         %d cores available, %d kernel threads, %s %s%n", Runtime.getRuntime().availableProcessors(),
                Device.cpuThreads(), System.getProperty("os.arch"), System.getProperty("os.name"));
        Device.Availability cuda = Device.availability(Device.Kind.CUDA);
        out.printf("CUDA        %s%n", cuda.usable() ? cuda.detail() : "not usable: " + cuda.detail());
        MemoryStats m = Allocator.cpu().stats();
        out.printf("Native mem  %s live, %s peak, %s pooled%n", Bytes.format(m.live()), Bytes.format(m.peak()),
                Bytes.format(m.cached()));
        return 0;
    }
}
