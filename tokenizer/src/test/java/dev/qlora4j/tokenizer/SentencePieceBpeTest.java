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

/** Llama 2 style BPE over characters with byte fallback: ids derived by hand from the merges below. */
class SentencePieceBpeTest {
    @TempDir
    Path dir;

    // 0 <unk>, 1 <s>, 2 </s>, 3 + b for <0xbb>; these from 259 on.
    static final String[] EXTRA = {
            "▁",      // 259
            "h",      // 260
            "e",      // 261
            "l",      // 262
            "o",      // 263
            "w",      // 264
            "r",      // 265
            "d",      // 266
            "ll",     // 267
            "▁h",     // 268
            "▁he",    // 269
            "▁hell",  // 270
            "▁hello", // 271
            "▁w",     // 272
            "or",     // 273
            "▁wor",   // 274
            "▁worl",  // 275
            "▁world", // 276
    };
    static final List<Object> MERGES = arr(arr("l", "l"), arr("▁", "h"), arr("▁h", "e"), arr("▁he", "ll"),
            arr("▁hell", "o"), arr("▁", "w"), arr("o", "r"), arr("▁w", "or"), arr("▁wor", "l"), arr("▁worl", "d"));

    static Map<String, Object> replaceStep(String from, String to) {
        return obj("type", "Replace", "pattern", obj("String", from), "content", to);
    }

    static final Map<String, Object> LLAMA2_DECODER = obj("type", "Sequence", "decoders", arr(
            replaceStep("▁", " "), obj("type", "ByteFallback"), obj("type", "Fuse"),
            obj("type", "Strip", "content", " ", "start", 1L, "stop", 0L)));

    /** Llama 2's tokenizer.json: Prepend + Replace normalizer, no pre-tokenizer. */
    static Map<String, Object> llama2(List<Object> merges, boolean byteFallback) {
        return Fixtures.tokenizerJson(
                Fixtures.bpe(Fixtures.sentencePieceVocab(EXTRA), merges, "unk_token", "<unk>", "fuse_unk", true,
                        "byte_fallback", byteFallback),
                "added_tokens", arr(Fixtures.added(0, "<unk>", true), Fixtures.added(1, "<s>", true), Fixtures.added(2, "</s>", true)),
                "normalizer", obj("type", "Sequence", "normalizers", arr(obj("type", "Prepend", "prepend", "▁"), replaceStep(" ", "▁"))),
                "post_processor", Fixtures.bosTemplate("<s>", 1),
                "decoder", LLAMA2_DECODER);
    }

    /** The newer layout: no normalizer, a Metaspace pre-tokenizer with the given prepend scheme. */
    static Map<String, Object> metaspace(String scheme) {
        Map<String, Object> spec = llama2(MERGES, true);
        spec.put("normalizer", null);
        spec.put("pre_tokenizer", obj("type", "Metaspace", "replacement", "▁", "prepend_scheme", scheme, "split", false));
        spec.put("decoder", obj("type", "Metaspace", "replacement", "▁", "prepend_scheme", scheme, "split", false));
        return spec;
    }

    @Test
    void leadingMarkerAndMergesByRank() throws Exception {
        Tokenizer t = Fixtures.load(dir, llama2(MERGES, true));
        // "hello world" -> "▁hello▁world", one word: ▁ h e l l o ▁ w o r l d.
        // l l (rank 0) -> ▁ h e ll o ▁ w o r l d; ▁ h (1) -> ▁h e ...; ▁h e (2) -> ▁he ll o; ▁he ll (3)
        // -> ▁hell o; ▁hell o (4) -> ▁hello; ▁ w (5) -> ▁w o r l d; o r (6) -> ▁w or l d; ▁w or (7)
        // -> ▁wor l d; ▁wor l (8) -> ▁worl d; ▁worl d (9) -> ▁world.
        assertArrayEquals(new int[]{271, 276}, t.encode("hello world", false));
        assertArrayEquals(new int[]{1, 271, 276}, t.encode("hello world", true));
        assertEquals(1, t.bosId().getAsInt());
        assertEquals("hello world", t.decode(new int[]{1, 271, 276}, true));
    }

    @Test
    void characterOutsideTheVocabularyFallsBackToItsBytes() throws Exception {
        Tokenizer t = Fixtures.load(dir, llama2(MERGES, true));
        // "h€" -> ▁ h €; ▁ h merges (268); € is U+20AC = E2 82 AC -> <0xE2> 3+0xE2 = 229,
        // <0x82> 3+0x82 = 133, <0xAC> 3+0xAC = 175.
        int[] ids = t.encode("h€", false);
        assertArrayEquals(new int[]{268, 229, 133, 175}, ids);
        assertEquals("<0xE2>", t.tokenOf(229));
        assertEquals("h€", t.decode(ids, false));
    }

    @Test
    void withoutByteFallbackUnknownCharactersBecomeOneFusedUnk() throws Exception {
        Tokenizer t = Fixtures.load(dir, llama2(MERGES, false));
        // ▁h then €€ -> one <unk> (fuse_unk).
        assertArrayEquals(new int[]{268, 0}, t.encode("h€€", false));
    }

    @Test
    void roundTrips() throws Exception {
        Tokenizer t = Fixtures.load(dir, llama2(MERGES, true));
        for (String s : new String[]{"hello world", "Hello, World!\nSecond line\ttab", "naïve 日本語 😀👍🏽",
                "  two leading spaces", "trailing "}) {
            assertEquals(s, t.decode(t.encode(s, false), false), s);
            assertEquals(s, t.decode(t.encode(s, true), true), s);
        }
    }

    @Test
    void stringMergesGiveTheSameIdsAsPairs() throws Exception {
        List<Object> strings = arr();
        for (Object m : MERGES) {
            List<?> p = (List<?>) m;
            strings.add(p.get(0) + " " + p.get(1));
        }
        Tokenizer t = Fixtures.load(dir, llama2(strings, true));
        assertArrayEquals(new int[]{271, 276}, t.encode("hello world", false));
    }

    @Test
    void legacyPrependMarksEveryStretchBetweenSpecialTokens() throws Exception {
        Tokenizer t = Fixtures.load(dir, llama2(MERGES, true));
        // Each stretch is normalized on its own, so "hello" after </s> also gets ▁: 271.
        assertArrayEquals(new int[]{271, 2, 271}, t.encode("hello</s>hello", false));
    }

    @Test
    void metaspaceFirstMarksOnlyTheStartOfTheText() throws Exception {
        Tokenizer t = Fixtures.load(dir, metaspace("first"));
        // "hello" at the start -> ▁hello 271; </s> 2; "hello" later: h e l l o -> l l (0) -> h e ll o,
        // no other merge: 260 261 267 263.
        assertArrayEquals(new int[]{271, 2, 260, 261, 267, 263}, t.encode("hello</s>hello", false));
        assertArrayEquals(new int[]{1, 271, 276}, t.encode("hello world", true));
        assertEquals("hello world", t.decode(new int[]{271, 276}, false));
    }

    @Test
    void metaspaceAlwaysMarksEveryStretch() throws Exception {
        Tokenizer t = Fixtures.load(dir, metaspace("always"));
        assertArrayEquals(new int[]{271, 2, 271}, t.encode("hello</s>hello", false));
    }

    @Test
    void configAddBosAndEos() throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("tokenizer_config.json"), Fixtures.toJson(obj(
                "add_bos_token", true, "add_eos_token", true, "bos_token", "<s>", "eos_token", "</s>",
                "chat_template", "{% for m in messages %}[INST] ...{% endfor %}")));
        Tokenizer t = Fixtures.load(dir, llama2(MERGES, true));
        assertArrayEquals(new int[]{1, 271, 2}, t.encode("hello", true));
        assertEquals(2, t.eosId().getAsInt());
        assertEquals(ChatTemplate.LLAMA2, ChatTemplate.detect(dir));
    }
}
