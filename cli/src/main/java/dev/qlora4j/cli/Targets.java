package dev.qlora4j.cli;

import dev.qlora4j.autograd.llama.LlamaModel;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** The {@code --targets} option: LoRA target modules by name, or {@code all-linear}. */
final class Targets {
    private Targets() {
    }

    static Set<String> parse(String value) throws UsageException {
        if (value.equals("all-linear")) {
            return new LinkedHashSet<>(LlamaModel.LINEAR_MODULES);
        }
        Set<String> targets = new LinkedHashSet<>();
        for (String t : value.split(",")) {
            if (!LlamaModel.LINEAR_MODULES.contains(t.trim())) {
                throw new UsageException("--targets: \"" + t.trim() + "\" is not a linear module; expected all-linear or a "
                        + "comma-separated list of " + String.join(", ", LlamaModel.LINEAR_MODULES));
            }
            targets.add(t.trim());
        }
        return targets;
    }

    /** The targets in the model's module order. */
    static List<String> ordered(Set<String> targets) {
        List<String> o = new ArrayList<>();
        for (String m : LlamaModel.LINEAR_MODULES) {
            if (targets.contains(m)) {
                o.add(m);
            }
        }
        return o;
    }
}
