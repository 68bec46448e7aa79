package dev.qlora4j.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The few fields of transformers' {@code tokenizer_config.json} that matter here: which tokens
 * are BOS and EOS, whether encoding adds them (null: the file does not say), and the chat template
 * text (null when absent).
 */
record TokenizerConfig(String bosToken, String eosToken, Boolean addBos, Boolean addEos, String chatTemplate) {
    static final String FILE = "tokenizer_config.json";
    static final TokenizerConfig NONE = new TokenizerConfig(null, null, null, null, null);

    /** The config in {@code folder}, or {@link #NONE} when the folder has none. */
    static TokenizerConfig readIfPresent(Path folder) throws IOException {
        Path file = folder.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return NONE;
        }
        Node root = Tokenizer.readJson(file);
        root.object();
        return new TokenizerConfig(token(root.get("bos_token")), token(root.get("eos_token")),
                optionalBool(root.get("add_bos_token")), optionalBool(root.get("add_eos_token")),
                chatTemplate(root.get("chat_template")));
    }

    /** A token given as a string or as transformers' AddedToken object {@code {"content": ...}}. */
    private static String token(Node n) {
        if (n.isNull()) {
            return null;
        }
        if (n.value() instanceof String s) {
            return s;
        }
        if (n.value() instanceof java.util.Map<?, ?>) {
            return n.requireString("content");
        }
        throw n.error("found " + Node.describe(n.value()) + "; expected a token as a string or {\"content\": ...}");
    }

    private static Boolean optionalBool(Node n) {
        return n.isNull() ? null : n.bool();
    }

    /** A single template, or the {@code default} one of a list of named templates. */
    private static String chatTemplate(Node n) {
        if (n.isNull()) {
            return null;
        }
        if (n.value() instanceof String s) {
            return s;
        }
        List<Node> named = n.list();
        for (Node t : named) {
            if ("default".equals(t.string("name", null))) {
                return t.requireString("template");
            }
        }
        return named.isEmpty() ? null : named.getFirst().requireString("template");
    }
}
