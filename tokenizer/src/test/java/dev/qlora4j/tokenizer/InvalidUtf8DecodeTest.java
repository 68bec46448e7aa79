package dev.qlora4j.tokenizer;

import dev.qlora4j.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Byte-level decoding of bytes that are not valid UTF-8, against vectors from
 * tests/reference/utf8_lossy_reference.py (CPython's "replace" decoding, which substitutes maximal
 * subparts as Rust's {@code from_utf8_lossy} in Hugging Face's tokenizers does): one U+FFFD per
 * maximal ill-formed subpart — three for an encoded surrogate, one per byte of an overlong, one for
 * a truncated sequence. The streaming decoder, fed one byte token at a time, ends with the same text.
 */
class InvalidUtf8DecodeTest {
    @TempDir
    Path dir;

    @Test
    void byteLevelDecodingReplacesAsHuggingFaceDoes() throws IOException {
        Tokenizer t = Fixtures.load(dir, ByteLevelBpeTest.gpt2(false));
        List<?> vectors = vectors();
        assertTrue(vectors.size() > 400, "vectors: " + vectors.size());
        for (Object v : vectors) {
            int[] ids = ints((List<?>) ((Map<?, ?>) v).get("bytes"));      // in this vocabulary byte b is id b
            String expected = text((List<?>) ((Map<?, ?>) v).get("codepoints"));
            assertEquals(expected, t.decode(ids, false), () -> "bytes " + java.util.Arrays.toString(ids));

            StreamDecoder stream = t.streamDecoder(false);
            StringBuilder streamed = new StringBuilder();
            for (int id : ids) {
                streamed.append(stream.next(id));
            }
            streamed.append(stream.finish());
            assertEquals(expected, streamed.toString(), () -> "streamed bytes " + java.util.Arrays.toString(ids));
        }
    }

    private static List<?> vectors() throws IOException {
        try (InputStream in = InvalidUtf8DecodeTest.class.getResourceAsStream("utf8-lossy-vectors.json")) {
            return (List<?>) Json.parse(in.readAllBytes());
        }
    }

    private static int[] ints(List<?> values) {
        return values.stream().mapToInt(x -> ((Long) x).intValue()).toArray();
    }

    private static String text(List<?> codePoints) {
        StringBuilder sb = new StringBuilder();
        codePoints.forEach(c -> sb.appendCodePoint(((Long) c).intValue()));
        return sb.toString();
    }
}
