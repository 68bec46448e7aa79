package dev.qlora4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The {@code decoder} of tokenizer.json: turns a list of token strings back into text. As in
 * Hugging Face, each step maps the whole list to a new list (some steps fuse it into one string),
 * and the result is the concatenation of the last list.
 */
final class TokenDecoder {
    private interface Step {
        List<String> apply(List<String> tokens);
    }

    private final List<Step> steps;

    private TokenDecoder(List<Step> steps) {
        this.steps = steps;
    }

    String decode(List<String> tokens) {
        for (Step s : steps) {
            tokens = s.apply(tokens);
        }
        return String.join("", tokens);
    }

    static TokenDecoder from(Node n) {
        List<Step> steps = new ArrayList<>();
        if (!n.isNull()) {
            collect(n, steps);
        }
        return new TokenDecoder(List.copyOf(steps));
    }

    private static void collect(Node n, List<Step> steps) {
        String type = n.type();
        switch (type) {
            case "Sequence" -> {
                for (Node sub : n.get("decoders").list()) {
                    collect(sub, steps);
                }
            }
            case "ByteLevel" -> steps.add(TokenDecoder::byteLevel);
            case "ByteFallback" -> steps.add(TokenDecoder::byteFallback);
            case "Fuse" -> steps.add(tokens -> List.of(String.join("", tokens)));
            case "Replace" -> {
                UnaryOperator<String> r = TextNormalizer.replacement(n);
                steps.add(tokens -> tokens.stream().map(r).toList());
            }
            case "Strip" -> steps.add(strip(n));
            case "Metaspace" -> steps.add(metaspace(n));
            default -> throw n.get("type").error("unsupported decoder type " + Node.quoteShort(type)
                    + "; expected one of Sequence, ByteLevel, ByteFallback, Fuse, Replace, Strip, Metaspace");
        }
    }

    /** Byte-level characters back to bytes, the whole list read as one UTF-8 text. */
    private static List<String> byteLevel(List<String> tokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (String t : tokens) {
            ByteLevel.appendBytes(t, bytes);
        }
        // Invalid or incomplete UTF-8 becomes U+FFFD as in Hugging Face (one per maximal subpart); an
        // incomplete character at the end is one U+FFFD, which the stream decoder relies on to wait.
        return List.of(Utf8Lossy.decode(bytes.toByteArray()));
    }

    /**
     * Runs of {@code <0xNN>} tokens back to the text their bytes spell; a run that is not valid
     * UTF-8 becomes one U+FFFD per byte, as in Hugging Face.
     */
    private static List<String> byteFallback(List<String> tokens) {
        List<String> out = new ArrayList<>();
        ByteArrayOutputStream run = new ByteArrayOutputStream();
        for (String t : tokens) {
            int b = byteOf(t);
            if (b >= 0) {
                run.write(b);
                continue;
            }
            flush(run, out);
            out.add(t);
        }
        flush(run, out);
        return out;
    }

    private static int byteOf(String t) {
        if (t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")) {
            try {
                return Integer.parseInt(t.substring(3, 5), 16);
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        return -1;
    }

    private static void flush(ByteArrayOutputStream run, List<String> out) {
        if (run.size() == 0) {
            return;
        }
        byte[] b = run.toByteArray();
        run.reset();
        try {
            out.add(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString());
        } catch (CharacterCodingException e) {
            out.add("\uFFFD".repeat(b.length));
        }
    }

    /** Removes up to {@code start} leading and {@code stop} trailing {@code content} characters of each token. */
    private static Step strip(Node n) {
        String content = n.requireString("content");
        if (content.codePointCount(0, content.length()) != 1) {
            throw n.get("content").error(Node.quoteShort(content) + " is not one character; expected one character");
        }
        int start = n.integer("start", 0);
        int stop = n.integer("stop", 0);
        return tokens -> tokens.stream().map(t -> {
            int from = 0;
            for (int i = 0; i < start && t.startsWith(content, from); i++) {
                from += content.length();
            }
            int to = t.length();
            for (int i = 0; i < stop && to - content.length() >= from && t.startsWith(content, to - content.length()); i++) {
                to -= content.length();
            }
            return t.substring(from, to);
        }).toList();
    }

    /** The marker back to spaces; the marker the pre-tokenizer prepended to the text is dropped. */
    private static Step metaspace(Node n) {
        String replacement = n.string("replacement", "▁");
        String scheme = n.has("prepend_scheme") ? n.get("prepend_scheme").string()
                : n.bool("add_prefix_space", true) ? "always" : "never";
        boolean dropFirst = !scheme.equals("never");
        return tokens -> {
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                String t = tokens.get(i);
                if (i == 0 && dropFirst && t.startsWith(replacement)) {
                    t = t.substring(replacement.length());
                }
                out.add(t.replace(replacement, " "));
            }
            return out;
        };
    }
}
