package dev.cpt.data.shard;

import dev.cpt.data.TokenSource;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A memory-mapped array of little-endian unsigned 8-, 16- or 32-bit tokens (token {@code i} at byte
 * {@code i × bytesPerToken} of the segment): what every shard format
 * comes down to once its header and index are checked. Never copied onto the heap whole.
 *
 * <p>Besides the tokens it says which {@linkplain #format() format} it was read from and whether its
 * {@linkplain #tokenizer() tokenizer} was recorded in the files, given by the caller, or assumed
 * (formats such as nanoGPT's raw {@code .bin} do not record one).
 */
public final class TokenShard implements TokenSource {

    /** Where a shard's tokenizer information came from. */
    public enum TokenizerOrigin {
        /** Recorded in the files (cpt's sidecar). */
        RECORDED,
        /** Given by the caller: the format records no tokenizer. */
        GIVEN,
        /** Neither recorded nor given: the format's usual tokenizer was assumed (GPT-2 for most). */
        ASSUMED
    }

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final MemorySegment tokens;
    private final int bytesPerToken;
    private final long length;
    private final TokenizerInfo tokenizer;
    private final String format;
    private final TokenizerOrigin tokenizerOrigin;

    /** @param tokens the token bytes only (past any header) */
    public TokenShard(Path file, MemorySegment tokens, int bytesPerToken, TokenizerInfo tokenizer) {
        this(file, tokens, bytesPerToken, tokenizer, CptTokensFormat.FORMAT, TokenizerOrigin.RECORDED);
    }

    /**
     * @param tokens the token bytes only (past any header)
     * @param format the name of the format the tokens were read from, for messages
     */
    public TokenShard(Path file, MemorySegment tokens, int bytesPerToken, TokenizerInfo tokenizer, String format,
                      TokenizerOrigin tokenizerOrigin) {
        if (bytesPerToken != 1 && bytesPerToken != 2 && bytesPerToken != 4) {
            throw new IllegalArgumentException("1, 2 or 4 bytes a token, not " + bytesPerToken);
        }
        this.file = file;
        this.tokens = tokens;
        this.bytesPerToken = bytesPerToken;
        this.length = tokens.byteSize() / bytesPerToken;
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.format = Objects.requireNonNull(format, "format");
        this.tokenizerOrigin = Objects.requireNonNull(tokenizerOrigin, "tokenizerOrigin");
    }

    /** The same tokens, described as read from {@code format} with a tokenizer of the given origin. */
    public TokenShard described(String format, TokenizerOrigin origin) {
        return new TokenShard(file, tokens, bytesPerToken, tokenizer, format, origin);
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

    /** The format the tokens were read from: {@code cpt-tokens}, {@code nanogpt}, {@code llm.c}, {@code megatron}. */
    public String format() {
        return format;
    }

    public TokenizerOrigin tokenizerOrigin() {
        return tokenizerOrigin;
    }

    /**
     * The tokenizer for messages, saying where it came from when the files do not record it:
     * "gpt2 (vocabulary 50257, assumed: nanogpt files do not record their tokenizer)".
     */
    public String describeTokenizer() {
        String base = tokenizer.id() + " (vocabulary " + tokenizer.vocabSize();
        return base + switch (tokenizerOrigin) {
            case RECORDED -> ")";
            case GIVEN -> ", given by the caller: " + format + " files do not record their tokenizer)";
            case ASSUMED -> ", assumed: " + format + " files do not record their tokenizer)";
        };
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
        return switch (bytesPerToken) {
            case 2 -> Short.toUnsignedInt(tokens.get(U16, i * 2));
            case 4 -> tokens.get(U32, i * 4);
            default -> Byte.toUnsignedInt(tokens.get(ValueLayout.JAVA_BYTE, i));
        };
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
        long i = firstOutOfVocabulary(vocabSize);
        if (i >= 0) {
            throw new ShardFormatException(file, "token " + Integer.toUnsignedString(token(i)) + " at index " + i + " (byte offset "
                    + (headerBytes + i * bytesPerToken) + ") is not below the vocabulary size " + vocabSize);
        }
    }

    /**
     * The index of the first token that is not in {@code [0, vocabSize)} read as unsigned (one pass
     * over the mapped file), or -1 when every token is.
     */
    public long firstOutOfVocabulary(int vocabSize) {
        for (long i = 0; i < length; i++) {
            int t = token(i);
            if (t < 0 || t >= vocabSize) return i;
        }
        return -1;
    }

    @Override
    public String toString() {
        return file + " (" + format + ", " + length + " tokens, tokenizer " + describeTokenizer() + ")";
    }
}
