package dev.qlora4j.tokenizer;

/**
 * Thrown when a tokenizer file cannot be used: malformed, or asking for a feature this module
 * does not implement. The message names the file, the place in it, what was found and what was
 * expected.
 */
public final class TokenizerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
