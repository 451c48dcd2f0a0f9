package dev.cpt.data.prepare;

import java.nio.file.Path;

/**
 * Input that cannot be prepared: a missing or unreadable file, a JSON Lines line that is not a
 * record with text, corrupt compressed data, no documents at all. The message names the file and,
 * where there is one, the line ({@code FILE:LINE: problem}).
 */
public final class PrepareException extends RuntimeException {
    private final Path file;
    private final long line;

    public PrepareException(String message) {
        this(null, 0, message, null);
    }

    public PrepareException(Path file, String problem) {
        this(file, 0, problem, null);
    }

    public PrepareException(Path file, long line, String problem) {
        this(file, line, problem, null);
    }

    public PrepareException(Path file, long line, String problem, Throwable cause) {
        super((file == null ? "" : file + (line > 0 ? ":" + line : "") + ": ") + problem, cause);
        this.file = file;
        this.line = line;
    }

    /** The input file at fault, or null. */
    public Path file() {
        return file;
    }

    /** The 1-based line at fault, or 0 when the problem is not one line's. */
    public long line() {
        return line;
    }
}
