package dev.cpt.data;

/**
 * A flat sequence of token ids: one dataset split. Implementations may be memory-mapped shards
 * or arrays; readers never need the whole sequence on the heap.
 */
public interface TokenSource {

    /** A name for messages (usually the file it was read from). */
    String name();

    /** Number of tokens. */
    long length();

    /** Copies tokens {@code [offset, offset + count)} into {@code dst[dstOffset...]}. */
    void read(long offset, int[] dst, int dstOffset, int count);
}
