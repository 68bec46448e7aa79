package dev.qlora4j.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code pre_tokenizer} of tokenizer.json: splits normalized text into words that BPE encodes
 * one by one (merges never cross a word boundary), and for byte-level models rewrites each word
 * into byte-level characters.
 */
final class PreTokenizer {
    /** GPT-2's word pattern, which ByteLevel uses when {@code use_regex} is true. */
    static final Pattern GPT2_PATTERN = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);

    /**
     * A word and whether it begins the whole input text (Metaspace's {@code prepend_scheme: "first"}
     * adds its marker only there).
     */
    record Piece(String text, boolean atStart) {
    }

    private interface Step {
        void apply(Piece in, List<Piece> out);
    }

    static final PreTokenizer NONE = new PreTokenizer(List.of());

    private final List<Step> steps;

    private PreTokenizer(List<Step> steps) {
        this.steps = steps;
    }

    List<Piece> apply(Piece input) {
        List<Piece> pieces = new ArrayList<>(List.of(input));
        for (Step step : steps) {
            List<Piece> next = new ArrayList<>();
            for (Piece p : pieces) {
                step.apply(p, next);
            }
            pieces = next;
        }
        pieces.removeIf(p -> p.text.isEmpty());
        return pieces;
    }

    static PreTokenizer from(Node n) {
        if (n.isNull()) {
            return NONE;
        }
        List<Step> steps = new ArrayList<>();
        collect(n, steps);
        return new PreTokenizer(List.copyOf(steps));
    }

    private static void collect(Node n, List<Step> steps) {
        String type = n.type();
        switch (type) {
            case "Sequence" -> {
                for (Node sub : n.get("pretokenizers").list()) {
                    collect(sub, steps);
                }
            }
            case "ByteLevel" -> steps.add(byteLevel(n.bool("add_prefix_space", true), n.bool("use_regex", true)));
            case "Split" -> steps.add(split(n));
            case "Metaspace" -> steps.add(metaspace(n));
            case "Digits" -> steps.add(splitter(Pattern.compile(n.bool("individual_digits", false) ? "[0-9]" : "[0-9]+"),
                    "Isolated", false));
            default -> throw n.get("type").error("unsupported pre_tokenizer type " + Node.quoteShort(type)
                    + "; expected one of Sequence, ByteLevel, Split, Metaspace, Digits");
        }
    }

    private static Step byteLevel(boolean addPrefixSpace, boolean useRegex) {
        return (p, out) -> {
            String text = addPrefixSpace && !p.text.startsWith(" ") ? " " + p.text : p.text;
            List<Piece> words = new ArrayList<>();
            if (useRegex) {
                splitter(GPT2_PATTERN, "Isolated", false).apply(new Piece(text, p.atStart), words);
            } else {
                words.add(new Piece(text, p.atStart));
            }
            for (Piece w : words) {
                out.add(new Piece(ByteLevel.encode(w.text), w.atStart));
            }
        };
    }

    private static Step split(Node n) {
        Pattern pattern = TextNormalizer.pattern(n.get("pattern"));
        String behavior = n.requireString("behavior");
        if (!List.of("Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous").contains(behavior)) {
            throw n.get("behavior").error("unknown split behavior " + Node.quoteShort(behavior)
                    + "; expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous");
        }
        return splitter(pattern, behavior, n.bool("invert", false));
    }

    private static Step metaspace(Node n) {
        String replacement = n.string("replacement", "▁");
        String scheme = n.has("prepend_scheme") ? n.get("prepend_scheme").string()
                : n.bool("add_prefix_space", true) ? "always" : "never";
        if (!List.of("always", "first", "never").contains(scheme)) {
            throw n.get("prepend_scheme").error("unknown prepend_scheme " + Node.quoteShort(scheme)
                    + "; expected \"always\", \"first\" or \"never\"");
        }
        boolean splitWords = n.bool("split", true);
        Step splitter = splitter(Pattern.compile(Pattern.quote(replacement)), "MergedWithNext", false);
        return (p, out) -> {
            String text = p.text.replace(" ", replacement);
            boolean prepend = switch (scheme) {
                case "always" -> true;
                case "first" -> p.atStart;
                default -> false;
            };
            if (prepend && !text.startsWith(replacement)) {
                text = replacement + text;
            }
            if (splitWords) {
                splitter.apply(new Piece(text, p.atStart), out);
            } else {
                out.add(new Piece(text, p.atStart));
            }
        };
    }

    /** Cuts a word at the matches of {@code pattern}; {@code behavior} says what becomes of each match. */
    private static Step splitter(Pattern pattern, String behavior, boolean invert) {
        return (p, out) -> {
            String s = p.text;
            // Regions covering the word in order: [start, end, isMatch].
            List<int[]> regions = new ArrayList<>();
            Matcher m = pattern.matcher(s);
            int at = 0;
            while (m.find()) {
                if (m.end() == m.start()) {
                    continue;
                }
                if (m.start() > at) {
                    regions.add(new int[]{at, m.start(), invert ? 1 : 0});
                }
                regions.add(new int[]{m.start(), m.end(), invert ? 0 : 1});
                at = m.end();
            }
            if (at < s.length()) {
                regions.add(new int[]{at, s.length(), invert ? 1 : 0});
            }
            List<int[]> pieces = new ArrayList<>();
            int[] pending = null;
            boolean lastWasMatch = true;
            for (int[] r : regions) {
                boolean match = r[2] == 1;
                switch (behavior) {
                    case "Removed" -> {
                        if (!match) {
                            pieces.add(r);
                        }
                    }
                    case "Isolated" -> pieces.add(r);
                    case "MergedWithPrevious" -> {
                        if (match && !lastWasMatch && !pieces.isEmpty()) {
                            pieces.getLast()[1] = r[1];
                        } else {
                            pieces.add(r.clone());
                        }
                    }
                    case "MergedWithNext" -> {
                        if (match) {
                            if (pending != null) {
                                pieces.add(pending);
                            }
                            pending = r.clone();
                        } else if (pending != null) {
                            pending[1] = r[1];
                            pieces.add(pending);
                            pending = null;
                        } else {
                            pieces.add(r);
                        }
                    }
                    default -> { // Contiguous: runs of adjacent matches become one piece
                        if (match && lastWasMatch && !pieces.isEmpty() && pieces.getLast()[2] == 1) {
                            pieces.getLast()[1] = r[1];
                        } else {
                            pieces.add(r.clone());
                        }
                    }
                }
                lastWasMatch = match;
            }
            if (pending != null) {
                pieces.add(pending);
            }
            for (int[] r : pieces) {
                out.add(new Piece(s.substring(r[0], r[1]), p.atStart && r[0] == 0));
            }
        };
    }
}
