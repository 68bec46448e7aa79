package dev.qlora4j.tokenizer;

import java.util.Objects;

/** One turn of a chat: who speaks ({@code system}, {@code user}, {@code assistant}) and what. */
public record Message(String role, String content) {
    public Message {
        Objects.requireNonNull(role, "Message: role is null; expected system, user or assistant");
        Objects.requireNonNull(content, "Message: content is null; expected text (possibly empty)");
    }
}
