package dev.qlora4j.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code qlora4j} command. Exit status: 0 success, 1 failure (the message says what failed),
 * 2 bad usage.
 */
public final class Main {
    private static final Map<String, Command> COMMANDS = new LinkedHashMap<>();

    static {
        register(new DemoCommand());
        register(new RankSweepCommand());
        register(new MemoryCommand());
        register(new ScalingStudyCommand());
        register(new FinetuneCommand());
        register(new GenerateCommand());
        register(new InfoCommand());
        register(new QuantizeCommand());
        register(new DequantizeCommand());
        register(new MergeCommand());
    }

    private Main() {
    }

    private static void register(Command c) {
        COMMANDS.put(c.name(), c);
    }

    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v != null ? v : "development build";
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command line; returns the exit status. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            out.print(help());
            return args.length == 0 ? 2 : 0;
        }
        if (args[0].equals("--version")) {
            out.println("qlora4j " + version());
            return 0;
        }
        if (args[0].equals("bench")) {
            err.println("qlora4j bench: run it through the ./qlora4j launcher, which builds and starts the JMH jar "
                    + "(benchmarks/target/benchmarks.jar)");
            return 2;
        }
        Command c = COMMANDS.get(args[0]);
        if (c == null) {
            err.println("qlora4j: unknown command \"" + args[0] + "\"; commands: " + String.join(", ", names()));
            return 2;
        }
        List<String> rest = Arrays.asList(args).subList(1, args.length);
        if (rest.contains("--help") || rest.contains("-h")) {
            out.println(c.usage());
            return 0;
        }
        try {
            return c.run(rest, out);
        } catch (UsageException e) {
            err.println("qlora4j " + c.name() + ": " + e.getMessage());
            err.println(c.usage());
            return 2;
        } catch (Exception | OutOfMemoryError e) {
            err.println("qlora4j " + c.name() + ": " + FailureMessage.of(e));
            if (Boolean.getBoolean("qlora4j.debug")) {
                e.printStackTrace(err);
            }
            return 1;
        }
    }

    private static List<String> names() {
        List<String> n = new java.util.ArrayList<>(COMMANDS.keySet());
        n.add("bench");
        return n;
    }

    static String help() {
        StringBuilder b = new StringBuilder();
        b.append("qlora4j ").append(version()).append(" — QLoRA fine-tuning on the JVM\n\n");
        b.append("usage: ./qlora4j COMMAND [ARGS]   (./qlora4j COMMAND --help for details)\n\ncommands:\n");
        for (Command c : COMMANDS.values()) {
            b.append(String.format("  %-14s %s%n", c.name(), c.summary()));
        }
        b.append(String.format("  %-14s %s%n", "bench", "run the JMH benchmarks; arguments go to JMH (e.g. GemmBenchmark -p threads=1)"));
        b.append("\nenvironment: JAVA_OPTS (extra JVM flags, e.g. -Dqlora4j.threads=2), JAVA_HOME (a JDK >= 25)\n");
        return b.toString();
    }
}
