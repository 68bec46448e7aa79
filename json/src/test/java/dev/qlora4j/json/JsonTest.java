package dev.qlora4j.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Hand-written cases from the grammar of RFC 8259, valid and invalid. */
class JsonTest {

    // ---- valid ----------------------------------------------------------------------------------

    @Test
    void literals() {
        assertEquals(Boolean.TRUE, Json.parse("true"));
        assertEquals(Boolean.FALSE, Json.parse("false"));
        assertNull(Json.parse("null"));
    }

    @Test
    void integersStayExact() {
        assertEquals(0L, Json.parse("0"));
        assertEquals(0L, Json.parse("-0"));
        assertEquals(42L, Json.parse("42"));
        assertEquals(-7L, Json.parse("-7"));
        assertEquals(Long.MAX_VALUE, Json.parse("9223372036854775807"));
        assertEquals(Long.MIN_VALUE, Json.parse("-9223372036854775808"));
        assertEquals(new BigInteger("9223372036854775808"), Json.parse("9223372036854775808"));
        assertEquals(new BigInteger("-123456789012345678901234567890"), Json.parse("-123456789012345678901234567890"));
    }

    @Test
    void numbersWithFractionOrExponentAreDoubles() {
        assertEquals(1.5, Json.parse("1.5"));
        assertEquals(-0.25, Json.parse("-0.25"));
        assertEquals(1e10, Json.parse("1e10"));
        assertEquals(1e10, Json.parse("1E+10"));
        assertEquals(-1e-2, Json.parse("-1e-2"));
        assertEquals(0.0, Json.parse("0.0"));
        assertEquals(100.0, Json.parse("1.0e2"));
        assertEquals(0.0, Json.parse("1e-400"), "underflow rounds to zero, as any reader of doubles does");
        assertInstanceOf(Double.class, Json.parse("1e0"));
    }

    @Test
    void stringEscapes() {
        assertEquals("", Json.parse("\"\""));
        assertEquals("a\"b\\c/d\be\ff\ng\rh\ti", Json.parse("\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\""));
        assertEquals("A\u00e9\u20ac\u0000", Json.parse("\"\\u0041\\u00E9\\u20ac\\u0000\""));
        assertEquals("\uD83D\uDE00", Json.parse("\"\\uD83D\\uDE00\""), "a surrogate pair is one character");
        assertEquals("\uD83D\uDE00", Json.parse("\"\\ud83d\\ude00\""));
    }

    @Test
    void rawUtf8InStrings() {
        String s = "caf\u00e9 \u20ac \uD83D\uDE00 \u0800 \uFFFD \uDBFF\uDFFF";
        assertEquals(s, Json.parse("\"" + s + "\""));
        assertEquals("a\u00e9\u20ac\uD83D\uDE00", Json.parse(new byte[] {'"', 'a', (byte) 0xC3, (byte) 0xA9,
                (byte) 0xE2, (byte) 0x82, (byte) 0xAC, (byte) 0xF0, (byte) 0x9F, (byte) 0x98, (byte) 0x80, '"'}));
    }

    @Test
    void objectsKeepDocumentOrder() {
        Object v = Json.parse("{\"z\":1,\"a\":[true,null,\"s\"],\"m\":{},\"e\":[]}");
        Map<?, ?> m = assertInstanceOf(LinkedHashMap.class, v);
        assertEquals(List.of("z", "a", "m", "e"), new ArrayList<>(m.keySet()));
        assertEquals(1L, m.get("z"));
        assertEquals(Arrays.asList(true, null, "s"), m.get("a"));
        assertEquals(Map.of(), m.get("m"));
        assertEquals(List.of(), m.get("e"));
    }

    @Test
    void whitespaceIsTheFourRfcCharacters() {
        assertEquals(Map.of("a", List.of(1L, 2L)), Json.parse(" \t\r\n{ \"a\" :\n[ 1 ,\t2 ] }\r\n "));
    }

    @Test
    void scalarsAreValidTopLevelTexts() {
        assertEquals("x", Json.parse("\"x\""));
        assertEquals(3L, Json.parse(" 3 "));
    }

    @Test
    void nestingUpToTheLimitIsAccepted() {
        String deep = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        Object v = Json.parse(deep);
        for (int i = 1; i < Json.MAX_DEPTH; i++) {
            v = ((List<?>) v).get(0);
        }
        assertEquals(List.of(), v);
    }

    @Test
    void quoteRoundTrips() {
        String s = "q\"b\\s\n\r\t\b\f\u0001\u001f/\u00e9\uD83D\uDE00";
        assertEquals("\"q\\\"b\\\\s\\n\\r\\t\\b\\f\\u0001\\u001f/\u00e9\uD83D\uDE00\"", Json.quote(s));
        assertEquals(s, Json.parse(Json.quote(s)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.quote("a\uD800b"));
        assertTrue(e.getMessage().contains("unpaired surrogate U+D800 at index 1"), e.getMessage());
    }

    // ---- invalid ----------------------------------------------------------------------------------

    /** Each row: input, byte position of the error, a fragment of the message. */
    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            ``                 | 0 | expected a value, found end of input
            `   `              | 3 | expected a value, found end of input
            01                 | 1 | leading zeros are not allowed
            -01                | 2 | leading zeros are not allowed
            00.5               | 1 | leading zeros are not allowed
            1.                 | 2 | expected a digit after the decimal point
            .5                 | 0 | expected a value
            +1                 | 0 | expected a value
            -                  | 1 | expected a digit after '-', found end of input
            -a                 | 1 | expected a digit after '-', found 'a'
            1e                 | 2 | expected a digit in the exponent
            1e+                | 3 | expected a digit in the exponent
            1.e5               | 2 | expected a digit after the decimal point
            NaN                | 0 | expected a value
            Infinity           | 0 | expected a value
            -Infinity          | 1 | expected a digit after '-'
            0x10               | 1 | expected end of input after the JSON value, found 'x'
            1e400              | 0 | outside the range of a double
            -1e400             | 0 | outside the range of a double
            tru                | 0 | expected the literal true, found end of input
            True               | 0 | expected a value
            nul                | 0 | expected the literal null
            falsy              | 0 | expected the literal false, found 'y'
            truex              | 4 | expected end of input after the JSON value, found 'x'
            1 2                | 2 | expected end of input after the JSON value, found '2'
            {} []              | 3 | expected end of input
            [1,]               | 3 | expected a value (object, array, string, number, true, false or null), found ']'
            [1 2]              | 3 | expected ',' or ']' after an array element, found '2'
            [1                 | 2 | expected ',' or ']' after an array element, found end of input
            [                  | 1 | expected a value, found end of input
            ]                  | 0 | expected a value
            [,1]               | 1 | expected a value
            {"a":1,}           | 7 | expected a string key in object, found '}'
            {"a" 1}            | 5 | expected ':' after object key "a", found '1'
            {"a":1 "b":2}      | 7 | expected ',' or '}' after an object member, found '"'
            {a:1}              | 1 | expected a string key in object, found 'a'
            {'a':1}            | 1 | expected a string key in object, found '''
            {1:1}              | 1 | expected a string key in object, found '1'
            {"a":}             | 5 | expected a value
            {"a":1             | 6 | expected ',' or '}' after an object member, found end of input
            {"a":1,"a":2}      | 7 | duplicate key "a" in object
            {"x":{"a":1,"a":2}} | 12 | duplicate key "a" in object
            "abc               | 4 | expected '"' to end the string that starts at byte 0, found end of input
            'abc'              | 0 | expected a value
            "\\x"              | 2 | invalid escape: expected one of
            "\\U0041"          | 2 | invalid escape
            "\\u12G4"          | 5 | expected 4 hex digits after \\u, found 'G'
            "\\u12"            | 5 | expected 4 hex digits after \\u, found '"'
            "\\uD800"          | 7 | expected a low surrogate escape \\uDC00-\\uDFFF after the high surrogate \\uD800, found '"'
            "\\uD800\\u0041"   | 7 | expected a low surrogate \\uDC00-\\uDFFF after the high surrogate \\uD800, found \\u0041
            "\\uD800\\uD800"   | 7 | expected a low surrogate
            "\\uDC00"          | 1 | unpaired low surrogate \\uDC00
            "\\                | 2 | invalid escape: expected one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u and four hex digits after '\\', found end of input
            /* c */ 1          | 0 | expected a value
            [1] // c           | 4 | expected end of input
            """)
    void rejects(String input, int position, String fragment) {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse(input), input);
        assertEquals(position, e.position(), e.getMessage());
        assertTrue(e.getMessage().startsWith("JSON at byte " + position + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }

    @Test
    void rejectsUnescapedControlCharacters() {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse("\"a\nb\""));
        assertEquals(2, e.position());
        assertTrue(e.getMessage().contains("control character 0x0A in a string; expected it escaped (\\u000A)"), e.getMessage());
        assertEquals(1, assertThrows(JsonException.class, () -> Json.parse("\"\u0000\"")).position());
        assertEquals(1, assertThrows(JsonException.class, () -> Json.parse("\"\u001f\"")).position());
    }

    @Test
    void rejectsWhitespaceOutsideTheRfcSet() {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse("\f1"));
        assertEquals(0, e.position());
        assertTrue(e.getMessage().contains("found byte 0x0C"), e.getMessage());
        assertEquals(1, assertThrows(JsonException.class, () -> Json.parse("1\u00a0")).position());
    }

    @Test
    void rejectsNestingPastTheLimit() {
        int n = Json.MAX_DEPTH + 1;
        JsonException e = assertThrows(JsonException.class, () -> Json.parse("[".repeat(n) + "]".repeat(n)));
        assertEquals(Json.MAX_DEPTH, e.position());
        assertTrue(e.getMessage().contains("nested deeper than 64 levels"), e.getMessage());
        String objects = "{\"a\":".repeat(n) + "1" + "}".repeat(n);
        assertThrows(JsonException.class, () -> Json.parse(objects));
        // A hostile input of a million brackets fails at the limit, not with a StackOverflowError.
        assertThrows(JsonException.class, () -> Json.parse("[".repeat(1_000_000)));
    }

    /** Each row: the bytes of a string body (hex), the error position in the text, a message fragment. */
    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            80          | 1 | byte 0x80 cannot start a character
            BF          | 1 | byte 0xBF cannot start a character
            C0 80       | 1 | byte 0xC0 cannot start a character
            C1 BF       | 1 | byte 0xC1 cannot start a character
            E0 80 80    | 2 | expected a byte in 0xA0-0xBF, found byte 0x80
            E0 9F BF    | 2 | expected a byte in 0xA0-0xBF
            ED A0 80    | 2 | sequence that starts at byte 1 with 0xED: expected a byte in 0x80-0x9F, found byte 0xA0
            ED BF BF    | 2 | expected a byte in 0x80-0x9F
            F0 80 80 80 | 2 | expected a byte in 0x90-0xBF
            F4 90 80 80 | 2 | expected a byte in 0x80-0x8F
            F5 80 80 80 | 1 | byte 0xF5 cannot start a character
            FF          | 1 | byte 0xFF cannot start a character
            C3          | 2 | expected a byte in 0x80-0xBF, found '"'
            C3 41       | 2 | expected a byte in 0x80-0xBF, found 'A'
            E2 82       | 3 | expected a byte in 0x80-0xBF, found '"'
            F0 9F 98    | 4 | expected a byte in 0x80-0xBF, found '"'
            """)
    void rejectsMalformedUtf8(String hex, int position, String fragment) {
        String[] parts = hex.trim().split(" ");
        byte[] text = new byte[parts.length + 2];
        text[0] = '"';
        for (int i = 0; i < parts.length; i++) {
            text[i + 1] = (byte) Integer.parseInt(parts[i], 16);
        }
        text[text.length - 1] = '"';
        JsonException e = assertThrows(JsonException.class, () -> Json.parse(text));
        assertEquals(position, e.position(), e.getMessage());
        assertTrue(e.getMessage().contains("invalid UTF-8"), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }

    @Test
    void rejectsATruncatedSequenceAtTheEndOfInput() {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse(new byte[] {'"', (byte) 0xE2, (byte) 0x82}));
        assertEquals(3, e.position());
        assertTrue(e.getMessage().contains("found end of input"), e.getMessage());
    }

    @Test
    void rejectsAByteOrderMark() {
        JsonException e = assertThrows(JsonException.class,
                () -> Json.parse(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, '1'}));
        assertEquals(0, e.position());
        assertTrue(e.getMessage().contains("found byte 0xEF"), e.getMessage());
    }

    @Test
    void renderWritesCompactJsonCutToTheLimit() {
        assertEquals("[\"0\",8,1.5,null,true,{\"k\":[]}]", Json.render(Json.parse("[\"0\", 8, 1.5, null, true, {\"k\": []}]"), 100));
        String rendered = Json.render(Json.parse("[" + "1,".repeat(10_000) + "1]"), 20);
        assertEquals("[1,1,1,1,1,1,1,1,1,1...", rendered);
    }

    @Test
    void describeNamesTheJsonType() {
        assertEquals("an object", Json.describe(Map.of()));
        assertEquals("an array", Json.describe(List.of()));
        assertEquals("the string \"F32\"", Json.describe("F32"));
        assertEquals("the number 1.5", Json.describe(1.5));
        assertEquals("the number -3", Json.describe(-3L));
        assertEquals("true", Json.describe(true));
        assertEquals("null", Json.describe(null));
    }

    // ---- files ----------------------------------------------------------------------------------

    @Test
    void aFileIsReadAndItsErrorsLeadWithItsName(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path good = java.nio.file.Files.writeString(dir.resolve("good.json"), "{\"a\": [1, 2]}");
        assertEquals(Map.of("a", List.of(1L, 2L)), Json.parse(good));
        java.nio.file.Path bad = java.nio.file.Files.writeString(dir.resolve("bad.json"), "{\"a\": [1, 2}");
        JsonException e = assertThrows(JsonException.class, () -> Json.parse(bad));
        assertEquals(bad + ": not valid JSON: at byte 11: expected ',' or ']' after an array element, found '}'", e.getMessage());
        assertEquals(11, e.position());
        assertThrows(java.nio.file.NoSuchFileException.class, () -> Json.parse(dir.resolve("missing.json")));
    }
}
