package dev.qlora4j.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Streaming decode: a piece is released only once its characters are complete. */
class StreamDecoderTest {
    @TempDir
    Path dir;

    @Test
    void byteLevelHoldsBackAHalfCharacter() throws Exception {
        Tokenizer t = Fixtures.load(dir, ByteLevelBpeTest.gpt2(false));
        StreamDecoder s = t.streamDecoder(false);
        // 260 "hello"; 32 Ġ; 195 and 169 are the two bytes of "é"; 261 "Ġwo".
        assertEquals("hello", s.next(260));
        assertEquals(" ", s.next(32));
        assertEquals("", s.next(195));
        assertEquals("é", s.next(169));
        assertEquals(" wo", s.next(261));
        assertEquals("", s.finish());
    }

    @Test
    void byteFallbackKeepsContextForTheLeadingSpace() throws Exception {
        Tokenizer t = Fixtures.load(dir, SentencePieceBpeTest.llama2(SentencePieceBpeTest.MERGES, true));
        StreamDecoder s = t.streamDecoder(true);
        // <s> is skipped; ▁hello starts the text, so its space is stripped; ▁world keeps its space
        // because it is decoded after ▁hello; € arrives as <0xE2> <0x82> <0xAC>.
        assertEquals("", s.next(1));
        assertEquals("hello", s.next(271));
        assertEquals(" world", s.next(276));
        assertEquals("", s.next(229));
        assertEquals("", s.next(133));
        assertEquals("€", s.next(175));
    }

    @Test
    void finishReturnsAnIncompleteCharacterAsReplacement() throws Exception {
        Tokenizer t = Fixtures.load(dir, ByteLevelBpeTest.gpt2(false));
        StreamDecoder s = t.streamDecoder(false);
        assertEquals("hello", s.next(260));
        assertEquals("", s.next(195));
        assertEquals("\uFFFD", s.finish());
        assertThrows(IllegalArgumentException.class, () -> s.next(999));
    }
}
