package dev.qlora4j.tokenizer;

/**
 * Thrown when a tokenizer file cannot be used: malformed, or asking for a feature this module
 * does not implement. The message names the file, the place in it, what was found and what was
 * expected.
 */
public final class TokenizerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An exception whose {@code message} names the file and place, what was found and what was expected. */
    public TokenizerException(String message) {
        super(message);
    }

    /**
     * An exception whose {@code message} names the file and the problem, with the error that revealed
     * it (a missing file, a JSON parse error) as its {@code cause}.
     */
    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
