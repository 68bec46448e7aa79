package dev.qlora4j.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code added_tokens} of tokenizer.json (special tokens such as {@code <|eot_id|>} among them).
 * They are found in the raw text before anything else happens, so that a marker written in the
 * text is one token and never split by BPE; at each position the longest one that matches wins.
 */
final class AddedTokens {
    /** One entry: its id, its exact text, and whether {@code decode(..., skipSpecial)} drops it. */
    record Entry(int id, String content, boolean special) {
    }

    /** A stretch of the input: either one added token ({@code id >= 0}) or plain text ({@code id == -1}). */
    record Segment(int start, String text, int id) {
    }

    private final List<Entry> entries;
    private final Map<String, Entry> byContent = new HashMap<>();
    /** Candidates by first character, longest first. */
    private final Map<Character, List<Entry>> byFirstChar = new HashMap<>();

    private AddedTokens(List<Entry> entries) {
        this.entries = entries;
        for (Entry e : entries) {
            byContent.put(e.content, e);
            byFirstChar.computeIfAbsent(e.content.charAt(0), _ -> new ArrayList<>()).add(e);
        }
        for (List<Entry> l : byFirstChar.values()) {
            l.sort(Comparator.comparingInt((Entry e) -> e.content.length()).reversed());
        }
    }

    static AddedTokens from(Node n) {
        List<Entry> entries = new ArrayList<>();
        Map<String, Node> seen = new HashMap<>();
        if (!n.isNull()) {
            for (Node t : n.list()) {
                int id = t.get("id").isNull() ? fail(t.get("id"), "missing; expected the token's id") : t.get("id").integer();
                if (id < 0) {
                    throw t.get("id").error("negative id " + id + "; expected an id >= 0");
                }
                String content = t.requireString("content");
                if (content.isEmpty()) {
                    throw t.get("content").error("empty content; expected the token's text");
                }
                Node before = seen.put(content, t);
                if (before != null && before.get("id").integer() != id) {
                    throw t.error("content " + Node.quoteShort(content) + " also appears at " + before.where()
                            + " with id " + before.get("id").integer() + "; expected one id per added token");
                }
                entries.add(new Entry(id, content, t.bool("special", false)));
            }
        }
        return new AddedTokens(List.copyOf(entries));
    }

    private static int fail(Node n, String problem) {
        throw n.error(problem);
    }

    List<Entry> entries() {
        return entries;
    }

    Entry byContent(String content) {
        return byContent.get(content);
    }

    /** The text cut into added tokens and the plain stretches between them, in order. */
    List<Segment> split(String text) {
        List<Segment> out = new ArrayList<>();
        int plainFrom = 0;
        int i = 0;
        while (i < text.length()) {
            Entry hit = null;
            List<Entry> candidates = byFirstChar.get(text.charAt(i));
            if (candidates != null) {
                for (Entry e : candidates) {
                    if (text.startsWith(e.content, i)) {
                        hit = e;
                        break;
                    }
                }
            }
            if (hit == null) {
                i++;
                continue;
            }
            if (i > plainFrom) {
                out.add(new Segment(plainFrom, text.substring(plainFrom, i), -1));
            }
            out.add(new Segment(i, hit.content, hit.id));
            i += hit.content.length();
            plainFrom = i;
        }
        if (plainFrom < text.length()) {
            out.add(new Segment(plainFrom, text.substring(plainFrom), -1));
        }
        return out;
    }
}
