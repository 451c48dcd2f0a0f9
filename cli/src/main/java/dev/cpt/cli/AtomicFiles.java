package dev.cpt.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The CLI's side of writing a user-named output file whole or not at all (core's
 * {@link dev.cpt.record.AtomicFiles} does the writing): a mistyped directory is an error rather
 * than created, and every failure becomes a {@link CliException} that names the file.
 */
final class AtomicFiles {
    private AtomicFiles() {}

    static void write(Path target, dev.cpt.record.AtomicFiles.Writer content) {
        Path abs = target.toAbsolutePath().normalize();
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new CliException("cannot write " + target + ": directory " + (dir == null ? "(none)" : dir) + " does not exist");
        }
        if (Files.isDirectory(abs)) throw new CliException("cannot write " + target + ": it is a directory");
        try {
            dev.cpt.record.AtomicFiles.write(abs, content);
        } catch (AccessDeniedException e) {
            throw new CliException("cannot write " + target + ": no permission to create files in " + dir, e);
        } catch (IOException e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
            throw new CliException("cannot write " + target + " (" + why + ")", e);
        }
    }
}
