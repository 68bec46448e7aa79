package dev.qlora4j.json;

/**
 * Thrown by {@link Json#parse} when its input is not one well-formed JSON text. The message names
 * the input (a file, when it came from one), the byte position of the problem and what was
 * expected there.
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

    private JsonException(String source, JsonException cause) {
        super(source + ": not valid JSON: at byte " + cause.position + ": " + cause.problem, cause);
        this.position = cause.position;
        this.problem = cause.problem;
    }

    /**
     * This error, its message led by {@code source} (a file name, or a tensor in one), so that a
     * reader of several JSON inputs can tell which one is wrong.
     */
    public JsonException in(String source) {
        return new JsonException(source, this);
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
