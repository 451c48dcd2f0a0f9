package dev.cpt.data.shard;

import java.io.IOException;

/** Writes tokenized documents into one shard; {@link #close()} makes it complete and visible. */
public interface ShardWriter extends AutoCloseable {

    /** Appends one document (its tokens, without the separator; the format adds what it needs). */
    void writeDocument(int[] tokens, int from, int to) throws IOException;

    default void writeDocument(int[] tokens) throws IOException {
        writeDocument(tokens, 0, tokens.length);
    }

    long tokens();

    long documents();

    @Override
    void close() throws IOException;
}
