package dev.qlora4j.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The prompt formats of the model families this engine fine-tunes, written out in Java rather
 * than by running the Jinja template of tokenizer_config.json (which would need a Jinja engine).
 * The output is text; special tokens in it are written as their text and become single tokens
 * when encoded, so encode it with {@code addSpecial = false} (LLAMA2 and LLAMA3 write BOS themselves).
 */
public enum ChatTemplate {
    /** Each message's content followed by a newline; no roles, no special tokens. */
    PLAIN {
        @Override
        public String format(List<Message> messages, boolean addGenerationPrompt) {
            StringBuilder sb = new StringBuilder();
            for (Message m : messages) {
                sb.append(m.content()).append('\n');
            }
            return sb.toString();
        }
    },

    /**
     * Llama 2 chat: {@code <s>[INST] {user} [/INST] {assistant} </s>} per exchange, a leading
     * system message folded into the first user turn as {@code <<SYS>>\n{system}\n<</SYS>>\n\n}.
     * Contents are trimmed, as Meta's template does. Roles must alternate user, assistant, ...
     * The prompt for a reply is the text itself ending in {@code [/INST]}, so
     * {@code addGenerationPrompt} changes nothing.
     */
    LLAMA2 {
        @Override
        public String format(List<Message> messages, boolean addGenerationPrompt) {
            List<Message> turns = messages;
            String system = null;
            if (!turns.isEmpty() && turns.getFirst().role().equals("system")) {
                system = turns.getFirst().content();
                turns = turns.subList(1, turns.size());
            }
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < turns.size(); i++) {
                Message m = turns.get(i);
                String expected = i % 2 == 0 ? "user" : "assistant";
                if (!m.role().equals(expected)) {
                    throw new IllegalArgumentException("ChatTemplate.LLAMA2: message " + (system == null ? i : i + 1)
                            + " has role " + Node.quoteShort(m.role()) + "; expected " + expected
                            + " (an optional system message first, then user and assistant alternating)");
                }
                String content = m.content().strip();
                if (i == 0 && system != null) {
                    content = "<<SYS>>\n" + system.strip() + "\n<</SYS>>\n\n" + content;
                }
                if (expected.equals("user")) {
                    sb.append("<s>[INST] ").append(content).append(" [/INST]");
                } else {
                    sb.append(' ').append(content).append(" </s>");
                }
            }
            return sb.toString();
        }
    },

    /**
     * Llama 3 instruct: {@code <|begin_of_text|>}, then per message
     * {@code <|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>}, contents trimmed as
     * Meta's template does; the generation prompt opens an assistant header.
     */
    LLAMA3 {
        @Override
        public String format(List<Message> messages, boolean addGenerationPrompt) {
            StringBuilder sb = new StringBuilder("<|begin_of_text|>");
            for (Message m : messages) {
                sb.append("<|start_header_id|>").append(m.role()).append("<|end_header_id|>\n\n")
                        .append(m.content().strip()).append("<|eot_id|>");
            }
            if (addGenerationPrompt) {
                sb.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
            }
            return sb.toString();
        }
    };

    /**
     * The conversation as prompt text; with {@code addGenerationPrompt}, followed by what makes the
     * model answer as the assistant.
     *
     * @throws IllegalArgumentException when the roles do not fit the format
     */
    public abstract String format(List<Message> messages, boolean addGenerationPrompt);

    /**
     * The template of a model folder, recognised from the {@code chat_template} of its
     * tokenizer_config.json: LLAMA3 when it uses {@code <|start_header_id|>}, LLAMA2 when it uses
     * {@code [INST]}, PLAIN otherwise (also when there is no config or no template).
     *
     * @throws IOException        when the config cannot be read
     * @throws TokenizerException when the config is not valid JSON or its fields have the wrong types
     */
    public static ChatTemplate detect(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) {
            throw new TokenizerException("ChatTemplate.detect: " + folder + " is not a folder; expected a model folder");
        }
        String template = TokenizerConfig.readIfPresent(folder).chatTemplate();
        if (template == null) {
            return PLAIN;
        }
        if (template.contains("<|start_header_id|>")) {
            return LLAMA3;
        }
        return template.contains("[INST]") ? LLAMA2 : PLAIN;
    }
}
