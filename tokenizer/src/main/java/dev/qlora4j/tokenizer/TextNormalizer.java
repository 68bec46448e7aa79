package dev.qlora4j.tokenizer;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * The {@code normalizer} of tokenizer.json: a rewrite of each stretch of text between added tokens
 * before it is split into words. Llama 2 uses {@code Sequence[Prepend("▁"), Replace(" ", "▁")]}.
 */
final class TextNormalizer {
    static final TextNormalizer NONE = new TextNormalizer(UnaryOperator.identity());

    private final UnaryOperator<String> rewrite;

    private TextNormalizer(UnaryOperator<String> rewrite) {
        this.rewrite = rewrite;
    }

    String apply(String text) {
        return rewrite.apply(text);
    }

    static TextNormalizer from(Node n) {
        return n.isNull() ? NONE : new TextNormalizer(build(n));
    }

    private static UnaryOperator<String> build(Node n) {
        String type = n.type();
        return switch (type) {
            case "Sequence" -> {
                List<UnaryOperator<String>> steps = new ArrayList<>();
                for (Node step : n.get("normalizers").list()) {
                    steps.add(build(step));
                }
                yield s -> {
                    for (UnaryOperator<String> step : steps) {
                        s = step.apply(s);
                    }
                    return s;
                };
            }
            // Hugging Face prepends only to non-empty text: an empty stretch stays empty.
            case "Prepend" -> {
                String prefix = n.requireString("prepend");
                yield s -> s.isEmpty() ? s : prefix + s;
            }
            case "Replace" -> replacement(n);
            case "NFC" -> s -> Normalizer.normalize(s, Normalizer.Form.NFC);
            case "NFD" -> s -> Normalizer.normalize(s, Normalizer.Form.NFD);
            case "NFKC" -> s -> Normalizer.normalize(s, Normalizer.Form.NFKC);
            case "NFKD" -> s -> Normalizer.normalize(s, Normalizer.Form.NFKD);
            case "Lowercase" -> s -> s.toLowerCase(Locale.ROOT);
            default -> throw n.get("type").error("unsupported normalizer type " + Node.quoteShort(type)
                    + "; expected one of Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD, Lowercase");
        };
    }

    /** A {@code Replace} step, shared with the decoder of the same name. */
    static UnaryOperator<String> replacement(Node n) {
        String content = n.requireString("content");
        Pattern p = pattern(n.get("pattern"));
        String quoted = java.util.regex.Matcher.quoteReplacement(content);
        return s -> p.matcher(s).replaceAll(quoted);
    }

    /** A {@code {"String": s}} or {@code {"Regex": r}} pattern as a compiled regular expression. */
    static Pattern pattern(Node n) {
        if (n.isNull()) {
            throw n.error("missing; expected {\"String\": ...} or {\"Regex\": ...}");
        }
        if (n.has("String")) {
            return Pattern.compile(Pattern.quote(n.get("String").string()));
        }
        if (n.has("Regex")) {
            Node r = n.get("Regex");
            try {
                // Hugging Face's regex engine reads \s and friends as Unicode classes; Java does
                // only with this flag.
                return Pattern.compile(r.string(), Pattern.UNICODE_CHARACTER_CLASS);
            } catch (java.util.regex.PatternSyntaxException e) {
                throw r.error("regular expression that java.util.regex cannot compile: " + e.getDescription()
                        + "; expected a pattern in the common Perl/Oniguruma syntax");
            }
        }
        throw n.error("found " + Node.describe(n.value()) + " without a String or Regex member; expected {\"String\": ...} or {\"Regex\": ...}");
    }
}
