package dev.qlora4j.engine.safetensors;

import java.io.IOException;

/**
 * Thrown when a file is not a well-formed safetensors file. The message names the file, the tensor
 * when one is at fault, and what was expected.
 */
public final class SafetensorsFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public SafetensorsFormatException(String message) {
        super(message);
    }

    public SafetensorsFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
