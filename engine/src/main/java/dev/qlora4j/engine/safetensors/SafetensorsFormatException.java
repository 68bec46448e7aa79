package dev.qlora4j.engine.safetensors;

import java.io.IOException;

/**
 * Thrown when a file is not a well-formed safetensors file. The message names the file, the tensor
 * when one is at fault, and what was expected.
 */
public final class SafetensorsFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /** An exception whose {@code message} names the file and says what is wrong and what was expected. */
    public SafetensorsFormatException(String message) {
        super(message);
    }

    /**
     * An exception whose {@code message} names the file and the problem, with the error that revealed
     * it (such as the JSON parser's) as its {@code cause}.
     */
    public SafetensorsFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
