package dev.qlora4j.json;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict reader of JSON text as RFC 8259 defines it, and the string quoting a writer needs.
 * Strict because it reads headers of files that may be hostile: it accepts exactly the grammar
 * and nothing around it, and fails with a {@link JsonException} naming the byte position and what
 * was expected.
 *
 * <p>Values map to Java as follows:
 * <ul>
 *   <li>object: {@link LinkedHashMap}{@code <String, Object>} in document order; a key that occurs
 *       twice in one object is an error, because which one wins is not defined by the RFC</li>
 *   <li>array: {@link ArrayList}{@code <Object>}</li>
 *   <li>string: {@link String}; escapes decoded, including four-hex-digit Unicode escapes and
 *       surrogate pairs written as two of them. A
 *       lone surrogate, escaped or not, is an error: it is not a Unicode character</li>
 *   <li>number without fraction or exponent: {@link Long} when it fits, else {@link BigInteger},
 *       so integers stay exact ({@code -0} reads as {@code 0L})</li>
 *   <li>other number: {@link Double}; one beyond the double range is an error</li>
 *   <li>{@code true}/{@code false}: {@link Boolean}; {@code null}: Java {@code null}</li>
 * </ul>
 * The collections returned are new and belong to the caller.
 *
 * <p>Besides the grammar, it rejects: input that is not UTF-8 (overlong forms, encoded
 * surrogates, code points past U+10FFFF, truncated sequences), a byte-order mark, anything but
 * whitespace after the value, and arrays/objects nested deeper than {@link #MAX_DEPTH}, which
 * bounds the stack a hostile input can demand. Thread-safe: it keeps no state between calls.
 */
public final class Json {
    /** The deepest nesting of arrays and objects accepted; the outermost one is at depth 1. */
    public static final int MAX_DEPTH = 64;

    private final byte[] in;
    private int pos;
    private int depth;

    private Json(byte[] in) {
        this.in = in;
    }

    /**
     * The value of one JSON text encoded in UTF-8.
     *
     * @throws JsonException naming the byte position when {@code utf8} is not exactly one JSON
     *                       value, optionally surrounded by whitespace
     */
    public static Object parse(byte[] utf8) {
        Json p = new Json(utf8);
        Object v = p.value();
        p.skipWhitespace();
        if (p.pos < utf8.length) {
            throw p.error("expected end of input after the JSON value, found " + p.found());
        }
        return v;
    }

    /**
     * The value of a JSON text; positions in errors count bytes of its UTF-8 encoding.
     *
     * @throws JsonException as {@link #parse(byte[])}
     */
    public static Object parse(String text) {
        return parse(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The value of the JSON file {@code file}.
     *
     * @throws JsonException whose message starts with the file's name, as {@link #parse(byte[])}
     * @throws IOException   when the file cannot be read (a missing file is a
     *                       {@link java.nio.file.NoSuchFileException})
     */
    public static Object parse(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        try {
            return parse(bytes);
        } catch (JsonException e) {
            throw e.in(file.toString());
        }
    }

    /**
     * {@code s} as a JSON string literal, quotes included: {@code "} and {@code \} escaped, control
     * characters escaped, everything else as is (a writer encodes the result in UTF-8).
     *
     * @throws IllegalArgumentException when {@code s} holds an unpaired surrogate, which no UTF-8
     *                                  text can carry
     */
    public static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else if (Character.isSurrogate(c)) {
                        if (!Character.isHighSurrogate(c) || i + 1 >= s.length()
                                || !Character.isLowSurrogate(s.charAt(i + 1))) {
                            throw new IllegalArgumentException("Json.quote: unpaired surrogate U+"
                                    + Integer.toHexString(c).toUpperCase() + " at index " + i
                                    + "; expected a string of Unicode characters");
                        }
                        sb.append(c).append(s.charAt(++i));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    /** A short description of a parsed value for error messages: its JSON type, and scalars themselves. */
    public static String describe(Object value) {
        return switch (value) {
            case null -> "null";
            case Map<?, ?> _ -> "an object";
            case List<?> _ -> "an array";
            case String s -> "the string " + quote(s);
            case Boolean b -> b.toString();
            default -> "the number " + value;
        };
    }

    /**
     * A parsed value as compact JSON text for error messages, cut to about {@code limit} characters
     * so that a hostile value cannot flood a message.
     */
    public static String render(Object value, int limit) {
        StringBuilder sb = new StringBuilder();
        render(value, sb, limit);
        return sb.length() > limit ? sb.substring(0, limit) + "..." : sb.toString();
    }

    private static void render(Object value, StringBuilder sb, int limit) {
        if (sb.length() > limit) {
            return;
        }
        switch (value) {
            case null -> sb.append("null");
            case String s -> sb.append(quote(s));
            case List<?> l -> {
                sb.append('[');
                for (int i = 0; i < l.size() && sb.length() <= limit; i++) {
                    sb.append(i > 0 ? "," : "");
                    render(l.get(i), sb, limit);
                }
                sb.append(']');
            }
            case Map<?, ?> m -> {
                sb.append('{');
                String sep = "";
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (sb.length() > limit) {
                        break;
                    }
                    sb.append(sep).append(quote((String) e.getKey())).append(':');
                    render(e.getValue(), sb, limit);
                    sep = ",";
                }
                sb.append('}');
            }
            default -> sb.append(value);
        }
    }

    // ---- grammar ----------------------------------------------------------------------------------

    private Object value() {
        skipWhitespace();
        if (pos >= in.length) {
            throw error("expected a value, found end of input");
        }
        return switch (in[pos]) {
            case '{' -> object();
            case '[' -> array();
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", null);
            default -> {
                if (in[pos] == '-' || isDigit(pos)) {
                    yield number();
                }
                throw error("expected a value (object, array, string, number, true, false or null), found " + found());
            }
        };
    }

    private Map<String, Object> object() {
        enter();
        pos++;
        Map<String, Object> members = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            depth--;
            return members;
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') {
                throw error("expected a string key in object, found " + found());
            }
            int keyPos = pos;
            String key = string();
            if (members.containsKey(key)) {
                throw new JsonException(keyPos, "duplicate key " + quote(key) + " in object; expected each key once");
            }
            skipWhitespace();
            if (peek() != ':') {
                throw error("expected ':' after object key " + quote(key) + ", found " + found());
            }
            pos++;
            members.put(key, value());
            skipWhitespace();
            int c = peek();
            pos++;
            if (c == '}') {
                depth--;
                return members;
            }
            if (c != ',') {
                pos--;
                throw error("expected ',' or '}' after an object member, found " + found());
            }
        }
    }

    private List<Object> array() {
        enter();
        pos++;
        List<Object> elements = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            depth--;
            return elements;
        }
        while (true) {
            elements.add(value());
            skipWhitespace();
            int c = peek();
            pos++;
            if (c == ']') {
                depth--;
                return elements;
            }
            if (c != ',') {
                pos--;
                throw error("expected ',' or ']' after an array element, found " + found());
            }
        }
    }

    private void enter() {
        if (++depth > MAX_DEPTH) {
            throw error("arrays and objects nested deeper than " + MAX_DEPTH + " levels; expected at most " + MAX_DEPTH);
        }
    }

    private Object literal(String word, Object value) {
        int start = pos;
        for (int i = 0; i < word.length(); i++) {
            if (pos >= in.length || in[pos] != word.charAt(i)) {
                throw new JsonException(start, "expected the literal " + word + ", found " + found());
            }
            pos++;
        }
        return value;
    }

    /** number = [ minus ] int [ frac ] [ exp ]; int = zero / ( digit1-9 *DIGIT ). */
    private Object number() {
        int start = pos;
        if (in[pos] == '-') {
            pos++;
        }
        if (!isDigit(pos)) {
            throw error("expected a digit after '-', found " + found());
        }
        if (in[pos] == '0') {
            pos++;
            if (isDigit(pos)) {
                throw error("leading zeros are not allowed in a number; expected '.', 'e' or the end of the number after 0");
            }
        } else {
            skipDigits();
        }
        boolean integer = true;
        if (peek() == '.') {
            integer = false;
            pos++;
            if (!isDigit(pos)) {
                throw error("expected a digit after the decimal point, found " + found());
            }
            skipDigits();
        }
        if (peek() == 'e' || peek() == 'E') {
            integer = false;
            pos++;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            if (!isDigit(pos)) {
                throw error("expected a digit in the exponent, found " + found());
            }
            skipDigits();
        }
        String text = new String(in, start, pos - start, StandardCharsets.US_ASCII);
        if (integer) {
            // Up to 18 digits always fit; longer ones are tried and fall back to BigInteger.
            try {
                return Long.parseLong(text);
            } catch (NumberFormatException e) {
                return new BigInteger(text);
            }
        }
        double d = Double.parseDouble(text);
        if (Double.isInfinite(d)) {
            throw new JsonException(start, "number " + text
                    + " is outside the range of a double; expected a magnitude below " + Double.MAX_VALUE);
        }
        return d;
    }

    private void skipDigits() {
        while (isDigit(pos)) {
            pos++;
        }
    }

    private String string() {
        int open = pos;
        pos++;
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= in.length) {
                throw error("expected '\"' to end the string that starts at byte " + open + ", found end of input");
            }
            int b = in[pos] & 0xFF;
            if (b == '"') {
                pos++;
                return sb.toString();
            } else if (b == '\\') {
                escape(sb);
            } else if (b < 0x20) {
                throw error(String.format("control character 0x%02X in a string; expected it escaped (\\u%04X)", b, b));
            } else if (b < 0x80) {
                sb.append((char) b);
                pos++;
            } else {
                sb.appendCodePoint(utf8Sequence());
            }
        }
    }

    private void escape(StringBuilder sb) {
        pos++;
        int c = peek();
        pos++;
        switch (c) {
            case '"' -> sb.append('"');
            case '\\' -> sb.append('\\');
            case '/' -> sb.append('/');
            case 'b' -> sb.append('\b');
            case 'f' -> sb.append('\f');
            case 'n' -> sb.append('\n');
            case 'r' -> sb.append('\r');
            case 't' -> sb.append('\t');
            case 'u' -> sb.appendCodePoint(unicodeEscape());
            default -> {
                pos--;
                throw error("invalid escape: expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u and four hex digits after '\\', found "
                        + found());
            }
        }
    }

    /**
     * The code point of a Unicode escape (backslash, 'u', four hex digits) whose first two
     * characters were just read; a high surrogate must be followed by an escaped low one.
     */
    private int unicodeEscape() {
        int start = pos - 2;
        char unit = (char) hex4();
        if (Character.isLowSurrogate(unit)) {
            throw new JsonException(start, String.format(
                    "unpaired low surrogate \\u%04X; expected it to follow a high surrogate \\uD800-\\uDBFF", (int) unit));
        }
        if (!Character.isHighSurrogate(unit)) {
            return unit;
        }
        if (pos + 1 >= in.length || in[pos] != '\\' || in[pos + 1] != 'u') {
            throw error(String.format(
                    "expected a low surrogate escape \\uDC00-\\uDFFF after the high surrogate \\u%04X, found %s",
                    (int) unit, found()));
        }
        int lowStart = pos;
        pos += 2;
        char low = (char) hex4();
        if (!Character.isLowSurrogate(low)) {
            throw new JsonException(lowStart, String.format(
                    "expected a low surrogate \\uDC00-\\uDFFF after the high surrogate \\u%04X, found \\u%04X",
                    (int) unit, (int) low));
        }
        return Character.toCodePoint(unit, low);
    }

    private int hex4() {
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = pos < in.length ? Character.digit(in[pos], 16) : -1;
            if (d < 0) {
                throw error("expected 4 hex digits after \\u, found " + found());
            }
            v = v << 4 | d;
            pos++;
        }
        return v;
    }

    /**
     * Decodes one multi-byte UTF-8 sequence at {@code pos}, accepting exactly the well-formed
     * sequences of RFC 3629 section 4, so that no byte string has two readings.
     */
    private int utf8Sequence() {
        int start = pos;
        int lead = in[pos] & 0xFF;
        int continuations;
        int secondMin = 0x80;
        int secondMax = 0xBF;
        int cp;
        if (lead >= 0xC2 && lead <= 0xDF) {
            continuations = 1;
            cp = lead & 0x1F;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            continuations = 2;
            cp = lead & 0x0F;
            if (lead == 0xE0) {
                secondMin = 0xA0; // shorter forms would be overlong
            } else if (lead == 0xED) {
                secondMax = 0x9F; // U+D800-U+DFFF are surrogates, not characters
            }
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            continuations = 3;
            cp = lead & 0x07;
            if (lead == 0xF0) {
                secondMin = 0x90; // overlong
            } else if (lead == 0xF4) {
                secondMax = 0x8F; // past U+10FFFF
            }
        } else {
            throw error(String.format("invalid UTF-8: byte 0x%02X cannot start a character; expected a lead byte "
                    + "0x00-0x7F, 0xC2-0xF4", lead));
        }
        pos++;
        for (int i = 0; i < continuations; i++) {
            int min = i == 0 ? secondMin : 0x80;
            int max = i == 0 ? secondMax : 0xBF;
            int b = pos < in.length ? in[pos] & 0xFF : -1;
            if (b < min || b > max) {
                throw error(String.format("invalid UTF-8 in the sequence that starts at byte %d with 0x%02X: expected "
                        + "a byte in 0x%02X-0x%02X, found %s", start, lead, min, max, found()));
            }
            cp = cp << 6 | (b & 0x3F);
            pos++;
        }
        return cp;
    }

    // ---- lexing helpers ---------------------------------------------------------------------------

    /** ws = *( %x20 / %x09 / %x0A / %x0D ) */
    private void skipWhitespace() {
        while (pos < in.length && (in[pos] == ' ' || in[pos] == '\t' || in[pos] == '\n' || in[pos] == '\r')) {
            pos++;
        }
    }

    /** The byte at the current position, or -1 at the end of the input. */
    private int peek() {
        return pos < in.length ? in[pos] & 0xFF : -1;
    }

    private boolean isDigit(int at) {
        return at < in.length && in[at] >= '0' && in[at] <= '9';
    }

    /** The byte at the current position as a message shows it. */
    private String found() {
        if (pos >= in.length) {
            return "end of input";
        }
        int b = in[pos] & 0xFF;
        return b > 0x20 && b < 0x7F ? "'" + (char) b + "'" : String.format("byte 0x%02X", b);
    }

    private JsonException error(String problem) {
        return new JsonException(pos, problem);
    }
}
