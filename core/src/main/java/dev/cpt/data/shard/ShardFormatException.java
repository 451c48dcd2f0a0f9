package dev.cpt.data.shard;

import java.nio.file.Path;

/** A token file that cannot be read as what it claims to be; names the file and the place. */
public final class ShardFormatException extends RuntimeException {
    private final Path file;

    public ShardFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
