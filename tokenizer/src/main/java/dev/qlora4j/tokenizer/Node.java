package dev.qlora4j.tokenizer;

import dev.qlora4j.json.Json;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;

/**
 * A parsed JSON value together with where it came from (file and path inside it), so that every
 * accessor can fail with a message that says exactly which field of which file is wrong.
 */
record Node(String file, String where, Object value) {

    static Node root(String file, Object value) {
        return new Node(file, "", value);
    }

    TokenizerException error(String problem) {
        return new TokenizerException(file + (where.isEmpty() ? "" : " at " + where) + ": " + problem);
    }

    boolean isNull() {
        return value == null;
    }

    /** The member {@code key} of this object; a null node when it is absent. */
    Node get(String key) {
        Map<?, ?> m = object();
        return new Node(file, where.isEmpty() ? key : where + "." + key, m.get(key));
    }

    boolean has(String key) {
        return object().containsKey(key) && object().get(key) != null;
    }

    Map<?, ?> object() {
        if (value instanceof Map<?, ?> m) {
            return m;
        }
        throw error("found " + describe(value) + ", expected an object");
    }

    List<Node> list() {
        if (value instanceof List<?> l) {
            Node[] out = new Node[l.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = new Node(file, where + "[" + i + "]", l.get(i));
            }
            return List.of(out);
        }
        throw error("found " + describe(value) + ", expected an array");
    }

    String string() {
        if (value instanceof String s) {
            return s;
        }
        throw error("found " + describe(value) + ", expected a string");
    }

    boolean bool() {
        if (value instanceof Boolean b) {
            return b;
        }
        throw error("found " + describe(value) + ", expected true or false");
    }

    int integer() {
        if (value instanceof Long l && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) {
            return (int) (long) l;
        }
        throw error("found " + describe(value) + ", expected an integer that fits in 32 bits");
    }

    /** A string member, or {@code fallback} when the member is absent or null. */
    String string(String key, String fallback) {
        Node n = get(key);
        return n.isNull() ? fallback : n.string();
    }

    boolean bool(String key, boolean fallback) {
        Node n = get(key);
        return n.isNull() ? fallback : n.bool();
    }

    int integer(String key, int fallback) {
        Node n = get(key);
        return n.isNull() ? fallback : n.integer();
    }

    /** A required string member. */
    String requireString(String key) {
        Node n = get(key);
        if (n.isNull()) {
            throw n.error("missing; expected a string");
        }
        return n.string();
    }

    /** The {@code type} member that tags every normalizer, pre-tokenizer, model, decoder and processor. */
    String type() {
        return requireString("type");
    }

    static String describe(Object v) {
        return switch (v) {
            case null -> "null";
            case Map<?, ?> _ -> "an object";
            case List<?> _ -> "an array";
            case String s -> "the string " + quoteShort(s);
            case Boolean b -> b.toString();
            case BigInteger b -> "the number " + b;
            default -> "the number " + v;
        };
    }

    /** A string quoted for a message, cut so that a long value cannot flood it. */
    static String quoteShort(String s) {
        String q = s.length() > 60 ? s.substring(0, 60) + "..." : s;
        try {
            return Json.quote(q);
        } catch (IllegalArgumentException e) {
            return "\"" + q + "\"";
        }
    }
}
