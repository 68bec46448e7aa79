package dev.qlora4j.json;

/**
 * Thrown by {@link Json#parse} when its input is not one well-formed JSON text. The message names
 * the byte position of the problem and what was expected there.
 */
public final class JsonException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final long position;
    private final String problem;

    JsonException(long position, String problem) {
        super("JSON at byte " + position + ": " + problem);
        this.position = position;
        this.problem = problem;
    }

    /** Offset of the offending byte from the start of the input, counting from 0. */
    public long position() {
        return position;
    }

    /** What is wrong and what was expected, without the position. */
    public String problem() {
        return problem;
    }
}
