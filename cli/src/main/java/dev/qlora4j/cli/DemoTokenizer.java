package dev.qlora4j.cli;

import dev.qlora4j.json.Json;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The demo model's tokenizer as a Hugging Face {@code tokenizer.json}: one token per character of
 * {@link DemoTask#VOCAB}, a BPE model without merges, no normalizer and no pre-tokenizer — so the
 * demo folder works with {@code generate} and {@code finetune} like any other checkpoint.
 */
final class DemoTokenizer {
    private DemoTokenizer() {
    }

    static void write(Path dir) throws IOException {
        StringBuilder vocab = new StringBuilder();
        for (int i = 0; i < DemoTask.VOCAB.length(); i++) {
            vocab.append(i == 0 ? "" : ", ").append(Json.quote(String.valueOf(DemoTask.VOCAB.charAt(i)))).append(": ").append(i);
        }
        String json = "{\n  \"version\": \"1.0\",\n  \"added_tokens\": [],\n  \"normalizer\": null,\n  \"pre_tokenizer\": null,\n"
                + "  \"post_processor\": null,\n  \"decoder\": null,\n"
                + "  \"model\": {\"type\": \"BPE\", \"unk_token\": \"_\", \"byte_fallback\": false, \"vocab\": {" + vocab
                + "}, \"merges\": []}\n}\n";
        dev.qlora4j.engine.AtomicFiles.writeString(dir.resolve("tokenizer.json"), json);
    }
}
