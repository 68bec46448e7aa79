package dev.qlora4j.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.qlora4j.tokenizer.Fixtures.arr;
import static dev.qlora4j.tokenizer.Fixtures.obj;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Llama 3 layout: Split with Llama 3's regex, ByteLevel without its own regex, ignore_merges, BOS from the template. */
class Llama3StyleTest {
    @TempDir
    Path dir;

    static final String LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    // Ids 0..255 bytes; the rest from 256. "Ġxyz" has no merge that builds it: only ignore_merges reaches it.
    static final String[] EXTRA = {"Ġw", "ll", "he", "hell", "hello", "Ġwo", "at", "ca", "34", "Ġxyz"};
    static final List<Object> MERGES = arr(arr("Ġ", "w"), arr("l", "l"), arr("h", "e"), arr("he", "ll"),
            arr("hell", "o"), arr("Ġw", "o"), arr("a", "t"), arr("c", "a"), arr("3", "4"));

    static Map<String, Object> llama3(boolean ignoreMerges) {
        return Fixtures.tokenizerJson(
                Fixtures.bpe(Fixtures.byteLevelVocab(EXTRA), MERGES, "ignore_merges", ignoreMerges),
                "added_tokens", arr(Fixtures.added(300, "<|begin_of_text|>", true), Fixtures.added(301, "<|end_of_text|>", true),
                        Fixtures.added(302, "<|start_header_id|>", true), Fixtures.added(303, "<|end_header_id|>", true),
                        Fixtures.added(304, "<|eot_id|>", true)),
                "pre_tokenizer", obj("type", "Sequence", "pretokenizers", arr(
                        obj("type", "Split", "pattern", obj("Regex", LLAMA3_REGEX), "behavior", "Isolated", "invert", false),
                        obj("type", "ByteLevel", "add_prefix_space", false, "trim_offsets", true, "use_regex", false))),
                "post_processor", obj("type", "Sequence", "processors", arr(
                        obj("type", "ByteLevel", "add_prefix_space", true, "trim_offsets", false, "use_regex", true),
                        Fixtures.bosTemplate("<|begin_of_text|>", 300))),
                "decoder", obj("type", "ByteLevel", "add_prefix_space", true, "trim_offsets", true, "use_regex", true));
    }

    @Test
    void llama3RegexSplitsDigitsInThrees() throws Exception {
        Tokenizer t = Fixtures.load(dir, llama3(true));
        // \p{N}{1,3}: words "123" and "456", so the 3 4 merge cannot apply across them.
        assertArrayEquals(new int[]{49, 50, 51, 52, 53, 54}, t.encode("123456", false));
    }

    @Test
    void ignoreMergesEmitsAVocabularyWordWhole() throws Exception {
        // " xyz" is one word, Ġxyz (id 265); without ignore_merges no merge reaches it.
        assertArrayEquals(new int[]{265}, Fixtures.load(dir.resolve("a"), llama3(true)).encode(" xyz", false));
        assertArrayEquals(new int[]{32, 120, 121, 122}, Fixtures.load(dir.resolve("b"), llama3(false)).encode(" xyz", false));
    }

    @Test
    void bosComesFromTheTemplateAndSpecialTokensMatchInsideText() throws Exception {
        Tokenizer t = Fixtures.load(dir, llama3(true));
        assertEquals(300, t.bosId().getAsInt());
        assertTrue(t.eosId().isEmpty(), "no config and no token after $A: no EOS known");
        // BOS 300, "hello" 260 (in the vocabulary), <|eot_id|> 304, " world" -> Ġwo r l d.
        assertArrayEquals(new int[]{300, 260, 304, 261, 114, 108, 100}, t.encode("hello<|eot_id|> world", true));
        assertArrayEquals(new int[]{260, 304, 261, 114, 108, 100}, t.encode("hello<|eot_id|> world", false));
        assertEquals("<|begin_of_text|>hello", t.decode(new int[]{300, 260}, false));
        assertEquals("hello", t.decode(new int[]{300, 260}, true));
    }

    @Test
    void configNamesEosAndCanTurnBosOff() throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("tokenizer_config.json"), Fixtures.toJson(obj(
                "bos_token", "<|begin_of_text|>",
                "eos_token", obj("__type", "AddedToken", "content", "<|eot_id|>", "special", true),
                "add_bos_token", false)));
        Tokenizer t = Fixtures.load(dir, llama3(true));
        assertEquals(304, t.eosId().getAsInt());
        assertEquals(300, t.bosId().getAsInt());
        assertArrayEquals(new int[]{260}, t.encode("hello", true));
    }

    @Test
    void chatPromptEncodesMarkersAsSingleTokens() throws Exception {
        Tokenizer t = Fixtures.load(dir, llama3(true));
        String prompt = ChatTemplate.LLAMA3.format(List.of(new Message("user", "hello")), true);
        // <|begin_of_text|> <|start_header_id|> "user" <|end_header_id|> "\n\n" "hello" <|eot_id|>
        // <|start_header_id|> "assistant" <|end_header_id|> "\n\n"; "\n\n" is one word (\s*[\r\n]+) of two Ċ.
        int[] ids = t.encode(prompt, false);
        assertArrayEquals(new int[]{300, 302, 117, 115, 101, 114, 303, 10, 10, 260, 304, 302,
                97, 115, 115, 105, 115, 116, 97, 110, 116, 303, 10, 10}, ids);
        assertEquals(prompt, t.decode(ids, false));
    }
}
