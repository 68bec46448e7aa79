package dev.qlora4j.tokenizer;

import dev.qlora4j.json.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Small tokenizer.json files written by the tests, built from Java maps and lists. */
final class Fixtures {
    private Fixtures() {
    }

    /** A JSON object from alternating keys and values (values may be null, unlike Map.of). */
    static Map<String, Object> obj(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    static List<Object> arr(Object... items) {
        return new ArrayList<>(Arrays.asList(items));
    }

    static String toJson(Object v) {
        return switch (v) {
            case null -> "null";
            case String s -> Json.quote(s);
            case Map<?, ?> m -> {
                StringBuilder sb = new StringBuilder("{");
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    sb.append(sb.length() > 1 ? "," : "").append(Json.quote((String) e.getKey())).append(':').append(toJson(e.getValue()));
                }
                yield sb.append('}').toString();
            }
            case List<?> l -> {
                StringBuilder sb = new StringBuilder("[");
                for (Object o : l) {
                    sb.append(sb.length() > 1 ? "," : "").append(toJson(o));
                }
                yield sb.append(']').toString();
            }
            default -> v.toString();
        };
    }

    /**
     * GPT-2's byte-to-character table, written out independently of the code under test, the way
     * GPT-2's encoder.py builds it: the printable ranges keep their code, the rest get 256, 257, ...
     */
    static String byteChar(int b) {
        List<Integer> keep = new ArrayList<>();
        for (int i = '!'; i <= '~'; i++) keep.add(i);
        for (int i = 0xA1; i <= 0xAC; i++) keep.add(i);
        for (int i = 0xAE; i <= 0xFF; i++) keep.add(i);
        if (keep.contains(b)) {
            return String.valueOf((char) b);
        }
        int n = 0;
        for (int i = 0; i < b; i++) {
            if (!keep.contains(i)) n++;
        }
        return String.valueOf((char) (256 + n));
    }

    /** Byte-level vocabulary: byte b is id b (its character), then {@code extra} from id 256 on. */
    static Map<String, Object> byteLevelVocab(String... extra) {
        Map<String, Object> v = new LinkedHashMap<>();
        for (int b = 0; b < 256; b++) {
            v.put(byteChar(b), (long) b);
        }
        for (int i = 0; i < extra.length; i++) {
            v.put(extra[i], (long) (256 + i));
        }
        return v;
    }

    /** SentencePiece vocabulary: 0 &lt;unk&gt;, 1 &lt;s&gt;, 2 &lt;/s&gt;, byte b is id 3 + b, then {@code extra} from id 259 on. */
    static Map<String, Object> sentencePieceVocab(String... extra) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("<unk>", 0L);
        v.put("<s>", 1L);
        v.put("</s>", 2L);
        for (int b = 0; b < 256; b++) {
            v.put(String.format("<0x%02X>", b), (long) (3 + b));
        }
        for (int i = 0; i < extra.length; i++) {
            v.put(extra[i], (long) (259 + i));
        }
        return v;
    }

    static Map<String, Object> bpe(Map<String, Object> vocab, List<Object> merges, Object... more) {
        Map<String, Object> m = obj("type", "BPE", "dropout", null, "unk_token", null,
                "continuing_subword_prefix", null, "end_of_word_suffix", null, "fuse_unk", false,
                "byte_fallback", false, "vocab", vocab, "merges", merges);
        for (int i = 0; i < more.length; i += 2) {
            m.put((String) more[i], more[i + 1]);
        }
        return m;
    }

    static Map<String, Object> added(long id, String content, boolean special) {
        return obj("id", id, "content", content, "single_word", false, "lstrip", false, "rstrip", false,
                "normalized", false, "special", special);
    }

    /** A TemplateProcessing that puts {@code bos} (with {@code id}) before the text. */
    static Map<String, Object> bosTemplate(String bos, long id) {
        return obj("type", "TemplateProcessing",
                "single", arr(obj("SpecialToken", obj("id", bos, "type_id", 0L)), obj("Sequence", obj("id", "A", "type_id", 0L))),
                "pair", arr(),
                "special_tokens", obj(bos, obj("id", bos, "ids", arr(id), "tokens", arr(bos))));
    }

    static Map<String, Object> tokenizerJson(Object model, Object... more) {
        Map<String, Object> m = obj("version", "1.0", "truncation", null, "padding", null, "added_tokens", arr(),
                "normalizer", null, "pre_tokenizer", null, "post_processor", null, "decoder", null, "model", model);
        for (int i = 0; i < more.length; i += 2) {
            m.put((String) more[i], more[i + 1]);
        }
        return m;
    }

    /** Writes {@code spec} as {@code dir/tokenizer.json} and loads the folder. */
    static Tokenizer load(Path dir, Map<String, Object> spec) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("tokenizer.json"), toJson(spec));
        return Tokenizer.load(dir);
    }
}
