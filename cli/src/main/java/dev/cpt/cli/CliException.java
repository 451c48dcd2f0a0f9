package dev.cpt.cli;

/**
 * A failure whose message says all a user needs (a file that cannot be written, …): cpt prints it
 * after the command's name, without a stack trace, and exits with 1.
 */
public final class CliException extends RuntimeException {
    public CliException(String message) {
        super(message);
    }

    public CliException(String message, Throwable cause) {
        super(message, cause);
    }
}
