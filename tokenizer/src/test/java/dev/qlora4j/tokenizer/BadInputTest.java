package dev.qlora4j.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static dev.qlora4j.tokenizer.Fixtures.arr;
import static dev.qlora4j.tokenizer.Fixtures.obj;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every refusal names the file or operation, what it found and what it expected. */
class BadInputTest {
    @TempDir
    Path dir;

    private static void assertMentions(Throwable e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message lacks \"" + p + "\": " + e.getMessage());
        }
    }

    private TokenizerException loadFails(Map<String, Object> spec) {
        return assertThrows(TokenizerException.class, () -> Fixtures.load(dir, spec));
    }

    @Test
    void unsupportedModelType() {
        Map<String, Object> spec = Fixtures.tokenizerJson(obj("type", "Unigram", "unk_id", 0L, "vocab", arr()));
        assertMentions(loadFails(spec), "tokenizer.json", "model.type", "\"Unigram\"", "\"BPE\"");
    }

    @Test
    void missingTokenizerJson() {
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.load(dir));
        assertMentions(e, dir.toString(), "tokenizer.json");
        e = assertThrows(TokenizerException.class, () -> Tokenizer.load(dir.resolve("nope.json")));
        assertMentions(e, "nope.json", "does not exist");
    }

    @Test
    void mergeNamingATokenNotInTheVocabulary() {
        Map<String, Object> spec = Fixtures.tokenizerJson(Fixtures.bpe(Fixtures.byteLevelVocab("ll"), arr("l l", "q ☃")));
        assertMentions(loadFails(spec), "tokenizer.json", "model.merges[1]", "\"☃\"", "not in model.vocab");
    }

    @Test
    void mergeWhoseResultIsNotInTheVocabulary() {
        Map<String, Object> spec = Fixtures.tokenizerJson(Fixtures.bpe(Fixtures.byteLevelVocab(), arr(arr("a", "b"))));
        assertMentions(loadFails(spec), "model.merges[0]", "\"ab\"");
    }

    @Test
    void anIdFarPastTheVocabularyIsRefusedBeforeATableThatSizeIsMade() {
        Map<String, Object> vocab = Fixtures.byteLevelVocab();
        int entries = vocab.size();
        vocab.put("huge", (long) Integer.MAX_VALUE);
        assertMentions(loadFails(Fixtures.tokenizerJson(Fixtures.bpe(vocab, arr()))), "model.vocab",
                "the largest id is 2147483647 among " + (entries + 1) + " tokens", "expected ids below " + (4L * (entries + 1) + 256));
        Map<String, Object> spec = ByteLevelBpeTest.gpt2(false);
        spec.put("added_tokens", arr(Fixtures.added(Integer.MAX_VALUE, "<huge>", true)));
        assertMentions(loadFails(spec), "added_tokens", "\"<huge>\" has id 2147483647", "expected ids below");
    }

    @Test
    void malformedMerge() {
        Map<String, Object> spec = Fixtures.tokenizerJson(Fixtures.bpe(Fixtures.byteLevelVocab(), arr("abc")));
        assertMentions(loadFails(spec), "model.merges[0]", "\"abc\"", "expected \"left right\"");
    }

    @Test
    void invalidJson() throws Exception {
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": ");
        assertMentions(assertThrows(TokenizerException.class, () -> Tokenizer.load(dir)), "tokenizer.json", "not valid JSON");
    }

    @Test
    void unsupportedPreTokenizerAndDecoder() {
        Map<String, Object> spec = ByteLevelBpeTest.gpt2(false);
        spec.put("pre_tokenizer", obj("type", "BertPreTokenizer"));
        assertMentions(loadFails(spec), "pre_tokenizer.type", "\"BertPreTokenizer\"", "expected one of");
        spec = ByteLevelBpeTest.gpt2(false);
        spec.put("decoder", obj("type", "WordPiece", "prefix", "##"));
        assertMentions(loadFails(spec), "decoder.type", "\"WordPiece\"");
    }

    @Test
    void vocabularyIdOfTheWrongType() {
        Map<String, Object> vocab = Fixtures.byteLevelVocab();
        vocab.put("x1", "seven");
        assertMentions(loadFails(Fixtures.tokenizerJson(Fixtures.bpe(vocab, arr()))), "model.vocab", "\"seven\"", "expected an integer");
    }

    @Test
    void configBosNotInTheVocabulary() throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("tokenizer_config.json"), Fixtures.toJson(obj("bos_token", "<bos>")));
        assertMentions(loadFails(ByteLevelBpeTest.gpt2(false)), "tokenizer_config.json", "bos_token", "\"<bos>\"");
    }

    @Test
    void decodeIdOutOfRange() throws Exception {
        Tokenizer t = Fixtures.load(dir, ByteLevelBpeTest.gpt2(false));
        // 301 ids (0..300); 290 lies in the gap between the vocabulary and the added token.
        assertMentions(assertThrows(IllegalArgumentException.class, () -> t.decode(new int[]{260, 301}, false)),
                "decode", "ids[1] = 301", "[0, 301)");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> t.decode(new int[]{290}, false)), "ids[0] = 290");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> t.decode(new int[]{-1}, false)), "ids[0] = -1");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> t.tokenOf(5000)), "tokenOf", "5000");
    }

    @Test
    void encodeRejectsWhatItCannotRepresent() throws Exception {
        Tokenizer bytes = Fixtures.load(dir.resolve("a"), ByteLevelBpeTest.gpt2(false));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> bytes.encode("a\uD800b", false)),
                "encode", "unpaired surrogate", "index 1");
        // A character vocabulary without byte fallback or unk: "h" is known, "€" is not.
        Map<String, Object> spec = Fixtures.tokenizerJson(Fixtures.bpe(obj("h", 0L), arr()));
        Tokenizer chars = Fixtures.load(dir.resolve("b"), spec);
        assertMentions(assertThrows(IllegalArgumentException.class, () -> chars.encode("h€", false)),
                "encode", "U+20AC", "no unk_token");
    }
}
