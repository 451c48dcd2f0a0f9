package dev.cpt.data.shard;

import dev.cpt.data.TokenSource;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * A memory-mapped array of little-endian unsigned 16- or 32-bit tokens: what every shard format
 * comes down to once its header and index are checked. Never copied onto the heap whole.
 */
public final class TokenShard implements TokenSource {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final MemorySegment tokens;
    private final int bytesPerToken;
    private final long length;
    private final TokenizerInfo tokenizer;

    /** @param tokens the token bytes only (past any header) */
    public TokenShard(Path file, MemorySegment tokens, int bytesPerToken, TokenizerInfo tokenizer) {
        if (bytesPerToken != 2 && bytesPerToken != 4) throw new IllegalArgumentException("2 or 4 bytes a token");
        this.file = file;
        this.tokens = tokens;
        this.bytesPerToken = bytesPerToken;
        this.length = tokens.byteSize() / bytesPerToken;
        this.tokenizer = tokenizer;
    }

    public Path file() {
        return file;
    }

    public TokenizerInfo tokenizer() {
        return tokenizer;
    }

    public int bytesPerToken() {
        return bytesPerToken;
    }

    @Override
    public String name() {
        return file.toString();
    }

    @Override
    public long length() {
        return length;
    }

    public int token(long i) {
        return bytesPerToken == 2
                ? Short.toUnsignedInt(tokens.get(U16, i * 2))
                : tokens.get(U32, i * 4);
    }

    @Override
    public void read(long offset, int[] dst, int dstOffset, int count) {
        if (offset < 0 || offset + count > length) {
            throw new IndexOutOfBoundsException(file + ": tokens [" + offset + ", " + (offset + count) + ") of " + length);
        }
        for (int i = 0; i < count; i++) dst[dstOffset + i] = token(offset + i);
    }

    /**
     * Checks every id against the vocabulary (one pass over the mapped file) and throws naming the
     * first offender's index and byte offset.
     */
    public void checkVocabulary(int vocabSize, long headerBytes) {
        for (long i = 0; i < length; i++) {
            int t = token(i);
            if (t < 0 || t >= vocabSize) {
                throw new ShardFormatException(file, "token " + Integer.toUnsignedString(t) + " at index " + i + " (byte offset "
                        + (headerBytes + i * bytesPerToken) + ") is not below the vocabulary size " + vocabSize);
            }
        }
    }
}
