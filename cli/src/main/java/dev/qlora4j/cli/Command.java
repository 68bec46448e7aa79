package dev.qlora4j.cli;

import java.io.PrintStream;
import java.util.List;

/** One subcommand of {@code qlora4j}. */
interface Command {
    /** The word that selects it: {@code qlora4j NAME ...}. */
    String name();

    /** One line for the command list. */
    String summary();

    /** The full usage text for {@code qlora4j NAME --help}. */
    String usage();

    /**
     * Runs the command.
     *
     * @return the process exit status: 0 on success
     * @throws UsageException for bad arguments (printed with the usage, exit status 2)
     */
    int run(List<String> args, PrintStream out) throws Exception;
}
