package dev.qlora4j.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.qlora4j.tokenizer.Fixtures.arr;
import static dev.qlora4j.tokenizer.Fixtures.obj;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** GPT-2 style byte-level BPE: ids derived by hand from the merges below. */
class ByteLevelBpeTest {
    @TempDir
    Path dir;

    // Ids 0..255 are the bytes (id = byte value); these follow from 256 in order.
    static final String[] EXTRA = {
            "Ġw",    // 256
            "ll",    // 257
            "he",    // 258
            "hell",  // 259
            "hello", // 260
            "Ġwo",   // 261
            "at",    // 262
            "ca",    // 263
            "34",    // 264
    };
    // Ranks in list order: 0 = applied first.
    static final List<Object> MERGES = arr("Ġ w", "l l", "h e", "he ll", "hell o", "Ġw o", "a t", "c a", "3 4");

    static Map<String, Object> gpt2(boolean addPrefixSpace) {
        return Fixtures.tokenizerJson(Fixtures.bpe(Fixtures.byteLevelVocab(EXTRA), MERGES),
                "added_tokens", arr(Fixtures.added(300, "<|endoftext|>", true)),
                "pre_tokenizer", obj("type", "ByteLevel", "add_prefix_space", addPrefixSpace, "trim_offsets", true, "use_regex", true),
                "post_processor", obj("type", "ByteLevel", "add_prefix_space", true, "trim_offsets", false, "use_regex", true),
                "decoder", obj("type", "ByteLevel", "add_prefix_space", true, "trim_offsets", true, "use_regex", true));
    }

    @Test
    void theByteTableMapsSpaceAndNewlineToTheirKnownCharacters() {
        // Checks the test's own table against GPT-2's well-known characters.
        assertEquals("Ġ", Fixtures.byteChar(0x20));
        assertEquals("Ċ", Fixtures.byteChar(0x0A));
        assertEquals("!", Fixtures.byteChar('!'));
        assertEquals("Ã", Fixtures.byteChar(0xC3));
        // The soft hyphen, the one gap in ¡..ÿ, comes after the 33 bytes 0x00..0x20 and the 34 bytes
        // 0x7F..0xA0 that are also remapped: 256 + 67 = U+0143.
        assertEquals("Ń", Fixtures.byteChar(0xAD));
    }

    @Test
    void spacesBecomeGAndMergesBuildWords() throws Exception {
        Tokenizer t = Fixtures.load(dir, gpt2(false));
        // Words: "hello", " world" -> "Ġworld".
        // "hello": h e l l o; lowest rank is l l (1) -> h e ll o; h e (2) -> he ll o; he ll (3) -> hell o;
        //   hell o (4) -> hello = 260.
        // "Ġworld": Ġ w (0) -> Ġw o r l d; Ġw o (5) -> Ġwo r l d; nothing else merges:
        //   261, 'r' 114, 'l' 108, 'd' 100.
        assertArrayEquals(new int[]{260, 261, 114, 108, 100}, t.encode("hello world", false));
        assertEquals("Ġwo", t.tokenOf(261));
        assertEquals("Ġ", t.tokenOf(32));
        assertEquals("hello world", t.decode(new int[]{260, 261, 114, 108, 100}, false));
    }

    @Test
    void mergesApplyByRankNotByPosition() throws Exception {
        Tokenizer t = Fixtures.load(dir, gpt2(false));
        // "cat": pairs c a (rank 7) and a t (rank 6). By rank, a t merges first: c at = [99, 262],
        // after which c + at has no merge. Left to right would have given ca t = [263, 116].
        assertArrayEquals(new int[]{99, 262}, t.encode("cat", false));
    }

    @Test
    void gpt2RegexKeepsDigitRunsTogether() throws Exception {
        Tokenizer t = Fixtures.load(dir, gpt2(false));
        // " ?\p{N}+" makes "123456" one word, so 3 4 (rank 8) merges: 1 2 34 5 6.
        assertArrayEquals(new int[]{49, 50, 264, 53, 54}, t.encode("123456", false));
    }

    @Test
    void nonAsciiCharacterSplitsIntoItsByteSymbols() throws Exception {
        Tokenizer t = Fixtures.load(dir, gpt2(false));
        // "é" is UTF-8 C3 A9; byte 0xC3 is 'Ã' (id 195), 0xA9 is '©' (id 169). " é" is one word
        // (" ?\p{L}+") starting with Ġ (id 32).
        assertArrayEquals(new int[]{32, 195, 169}, t.encode(" é", false));
        assertEquals("Ã", t.tokenOf(195));
        assertEquals("©", t.tokenOf(169));
        // "a\nb": the newline (0x0A, 'Ċ') is its own word: \s+(?!\S) fails before 'b', \s+ takes it.
        assertArrayEquals(new int[]{97, 10, 98}, t.encode("a\nb", false));
        assertEquals("Ċ", t.tokenOf(10));
        // The emoji U+1F600 is F0 9F 98 80.
        assertArrayEquals(new int[]{0xF0, 0x9F, 0x98, 0x80}, t.encode("😀", false));
    }

    @Test
    void addPrefixSpaceIsHonoured() throws Exception {
        Tokenizer t = Fixtures.load(dir, gpt2(true));
        // " hello" -> Ġ h e l l o -> (l l, h e, he ll, hell o) -> Ġ hello; Ġ h has no merge.
        assertArrayEquals(new int[]{32, 260}, t.encode("hello", false));
        // Already starting with a space: no second one.
        assertArrayEquals(new int[]{32, 260}, t.encode(" hello", false));
    }

    @Test
    void roundTripsAsciiUnicodeEmojiAndNewlines() throws Exception {
        Tokenizer t = Fixtures.load(dir, gpt2(false));
        for (String s : new String[]{"hello world", "The cat sat.\n\n  Indented\ttab\r\n", "naïve café, Ελληνικά, 日本語",
                "😀 👍🏽 family: 👨‍👩‍👧", "trailing spaces   ", "", " ", "\n"}) {
            assertEquals(s, t.decode(t.encode(s, false), false), s);
        }
    }

    @Test
    void specialTokenInTheMiddleIsOneIdAndSkippable() throws Exception {
        Tokenizer t = Fixtures.load(dir, gpt2(false));
        // "hello" 260, "<|endoftext|>" 300, then " world" as in spacesBecomeG...
        int[] ids = t.encode("hello<|endoftext|> world", false);
        assertArrayEquals(new int[]{260, 300, 261, 114, 108, 100}, ids);
        assertEquals("hello<|endoftext|> world", t.decode(ids, false));
        assertEquals("hello world", t.decode(ids, true));
        assertEquals(301, t.vocabSize());
        assertEquals(300, t.idOf("<|endoftext|>").getAsInt());
        assertEquals(260, t.idOf("hello").getAsInt());
        assertEquals(true, t.idOf("nope").isEmpty());
    }

    @Test
    void bothMergeFormatsGiveTheSameIds() throws Exception {
        List<Object> pairs = arr();
        for (Object m : MERGES) {
            String[] p = ((String) m).split(" ");
            pairs.add(arr(p[0], p[1]));
        }
        Map<String, Object> spec = gpt2(false);
        spec.put("model", Fixtures.bpe(Fixtures.byteLevelVocab(EXTRA), pairs));
        Tokenizer t = Fixtures.load(dir, spec);
        assertArrayEquals(new int[]{260, 261, 114, 108, 100}, t.encode("hello world", false));
        assertArrayEquals(new int[]{99, 262}, t.encode("cat", false));
    }
}
