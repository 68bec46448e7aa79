package dev.qlora4j.cli;

/** Bad command-line arguments: the message says which and what was expected. */
final class UsageException extends Exception {
    UsageException(String message) {
        super(message);
    }
}
