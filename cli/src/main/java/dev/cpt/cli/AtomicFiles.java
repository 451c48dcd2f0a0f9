package dev.cpt.cli;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/** Writes a file whole or not at all: into a temporary file beside it, then renamed into place. */
final class AtomicFiles {
    private AtomicFiles() {}

    @FunctionalInterface
    interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * Writes {@code target} through {@code content}. On any failure the temporary file is removed
     * and {@code target} is left as it was; the failure becomes a {@link CliException} that names the file.
     */
    static void write(Path target, Content content) {
        try {
            writeOrThrow(target, content);
        } catch (IOException e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName()
                    : e.getClass().getSimpleName() + ": " + e.getMessage();
            throw new CliException("cannot write " + target + " (" + why + ")", e);
        }
    }

    private static void writeOrThrow(Path target, Content content) throws IOException {
        Path abs = target.toAbsolutePath().normalize();
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new CliException("cannot write " + target + ": directory " + (dir == null ? "(none)" : dir)
                    + " does not exist");
        }
        if (Files.isDirectory(abs)) throw new CliException("cannot write " + target + ": it is a directory");
        Path tmp = createTemp(dir, abs.getFileName().toString(), target);
        boolean moved = false;
        try {
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp, StandardOpenOption.WRITE))) {
                content.writeTo(out);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            moved = true;
        } finally {
            if (!moved) Files.deleteIfExists(tmp);
        }
    }

    /** A new hidden file in {@code dir}; made with the process's umask, unlike {@code Files.createTempFile}'s 0600. */
    private static Path createTemp(Path dir, String name, Path target) throws IOException {
        for (int attempt = 0; ; attempt++) {
            String suffix = Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
            Path tmp = dir.resolve("." + name + "." + suffix + ".tmp");
            try {
                return Files.createFile(tmp);
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) throw e;
            } catch (AccessDeniedException e) {
                throw new CliException("cannot write " + target + ": no permission to create files in " + dir, e);
            }
        }
    }
}
