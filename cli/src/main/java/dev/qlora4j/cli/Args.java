package dev.qlora4j.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parsed command-line arguments: positionals, {@code --name value} options and {@code --flag}
 * switches, each checked against what the command accepts.
 */
final class Args {
    private final List<String> positionals = new ArrayList<>();
    private final Map<String, String> options = new LinkedHashMap<>();

    private Args() {
    }

    /**
     * @param valued   options that take a value ("--type")
     * @param switches options that stand alone ("--double-quant")
     * @throws UsageException for an unknown option or a missing value
     */
    static Args parse(String command, List<String> args, Set<String> valued, Set<String> switches) throws UsageException {
        Args a = new Args();
        for (int i = 0; i < args.size(); i++) {
            String s = args.get(i);
            if (s.startsWith("--")) {
                String name = s;
                String value = null;
                int eq = s.indexOf('=');
                if (eq > 0) {
                    name = s.substring(0, eq);
                    value = s.substring(eq + 1);
                }
                if (valued.contains(name)) {
                    if (value == null) {
                        if (i + 1 >= args.size()) {
                            throw new UsageException(name + " needs a value");
                        }
                        value = args.get(++i);
                    }
                    a.options.put(name, value);
                } else if (switches.contains(name) && value == null) {
                    a.options.put(name, "");
                } else {
                    throw new UsageException("unknown option " + s + " for " + command + "; accepted: "
                            + String.join(" ", valued) + " " + String.join(" ", switches));
                }
            } else {
                a.positionals.add(s);
            }
        }
        return a;
    }

    List<String> positionals() {
        return positionals;
    }

    boolean has(String name) {
        return options.containsKey(name);
    }

    String get(String name, String fallback) {
        return options.getOrDefault(name, fallback);
    }

    int getInt(String name, int fallback) throws UsageException {
        String v = options.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new UsageException(name + " " + v + ": expected a whole number");
        }
    }

    double getDouble(String name, double fallback) throws UsageException {
        String v = options.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new UsageException(name + " " + v + ": expected a number");
        }
    }

    /** A whole number of at least {@code min}. */
    int getInt(String name, int fallback, int min) throws UsageException {
        int v = getInt(name, fallback);
        if (v < min) {
            throw new UsageException(name + " " + v + ": expected at least " + min);
        }
        return v;
    }

    /** A comma-separated list, e.g. {@code --ranks 4,8,16}. */
    List<String> getList(String name, String fallback) {
        List<String> items = new ArrayList<>();
        for (String s : get(name, fallback).split(",")) {
            if (!s.isBlank()) {
                items.add(s.trim());
            }
        }
        return items;
    }
}
