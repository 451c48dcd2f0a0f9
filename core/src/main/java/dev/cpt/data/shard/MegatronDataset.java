package dev.cpt.data.shard;

import dev.cpt.data.TokenSource;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * An opened, checked Megatron indexed dataset ({@code PREFIX.bin} + {@code PREFIX.idx}, layout in
 * {@link MegatronFormat}): the tokens of every sequence, concatenated, as one {@link TokenShard}
 * over the whole {@code .bin}, and the index, memory-mapped, for reading sequences and documents.
 *
 * <p>Sequence {@code i} is tokens {@code [sequenceStart(i), sequenceStart(i) + sequenceLength(i))}
 * of {@link #tokens()}; document {@code d} is sequences {@code [documentFirstSequence(d),
 * documentFirstSequence(d + 1))}, which are contiguous, so also a token range. Nothing is added
 * between documents: data prepared with GPT-NeoX's or Megatron's {@code --append-eod} already ends
 * every document with the end-of-document token, and data prepared without it has no separator.
 */
public final class MegatronDataset implements TokenSource {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path prefix;
    private final TokenShard tokens;
    private final MemorySegment index;
    private final int dtypeCode;
    private final long sequenceCount;
    private final long documentIndexEntries;

    MegatronDataset(Path prefix, TokenShard tokens, MemorySegment index, int dtypeCode, long sequenceCount,
                    long documentIndexEntries) {
        this.prefix = prefix;
        this.tokens = tokens;
        this.index = index;
        this.dtypeCode = dtypeCode;
        this.sequenceCount = sequenceCount;
        this.documentIndexEntries = documentIndexEntries;
    }

    public Path prefix() {
        return prefix;
    }

    public Path dataFile() {
        return MegatronFormat.dataFile(prefix);
    }

    public Path indexFile() {
        return MegatronFormat.indexFile(prefix);
    }

    /** All sequences, concatenated: the whole {@code .bin}. */
    public TokenShard tokens() {
        return tokens;
    }

    /** The index's dtype code (1 uint8, 4 int32, 8 uint16 are the ones read). */
    public int dtypeCode() {
        return dtypeCode;
    }

    public long sequenceCount() {
        return sequenceCount;
    }

    /** Tokens in sequence {@code i}: {@code sizes[i]}. */
    public int sequenceLength(long i) {
        checkSequence(i);
        return index.get(I32, MegatronFormat.HEADER_BYTES + 4 * i);
    }

    /** Byte offset of sequence {@code i} in the {@code .bin}: {@code pointers[i]}. */
    public long sequencePointer(long i) {
        checkSequence(i);
        return index.get(I64, MegatronFormat.HEADER_BYTES + 4 * sequenceCount + 8 * i);
    }

    /** Index in {@link #tokens()} of sequence {@code i}'s first token; {@code i == sequenceCount()} gives the total. */
    public long sequenceStart(long i) {
        if (i == sequenceCount) return tokens.length();
        return sequencePointer(i) / tokens.bytesPerToken();
    }

    /** Documents: one fewer than the document index's entries (its first is 0, its last the sequence count). */
    public long documentCount() {
        return documentIndexEntries - 1;
    }

    /** {@code doc_idx[d]}: the first sequence of document {@code d}; {@code d == documentCount()} gives the sequence count. */
    public long documentFirstSequence(long d) {
        if (d < 0 || d > documentCount()) {
            throw new IndexOutOfBoundsException(indexFile() + ": document index entry " + d + " of " + documentIndexEntries);
        }
        return index.get(I64, MegatronFormat.HEADER_BYTES + 12 * sequenceCount + 8 * d);
    }

    /** Index in {@link #tokens()} of document {@code d}'s first token; {@code d == documentCount()} gives the total. */
    public long documentStart(long d) {
        return sequenceStart(documentFirstSequence(d));
    }

    public long documentLength(long d) {
        checkDocument(d);
        return documentStart(d + 1) - documentStart(d);
    }

    /** Document {@code d}'s tokens, copied (one document, not the file). */
    public int[] document(long d) {
        int[] out = new int[Math.toIntExact(documentLength(d))];
        tokens.read(documentStart(d), out, 0, out.length);
        return out;
    }

    /** Sequence {@code i}'s tokens, copied. */
    public int[] sequence(long i) {
        int[] out = new int[sequenceLength(i)];
        tokens.read(sequenceStart(i), out, 0, out.length);
        return out;
    }

    /** The sequence holding token {@code t} of {@link #tokens()} (binary search over the pointers). */
    public long sequenceOfToken(long t) {
        long lo = 0, hi = sequenceCount - 1;
        while (lo < hi) {
            long mid = (lo + hi + 1) >>> 1;
            if (sequenceStart(mid) <= t) lo = mid;
            else hi = mid - 1;
        }
        return lo;
    }

    /** The document holding sequence {@code s} (binary search over the document index). */
    public long documentOfSequence(long s) {
        long lo = 0, hi = documentCount() - 1;
        while (lo < hi) {
            long mid = (lo + hi + 1) >>> 1;
            if (documentFirstSequence(mid) <= s) lo = mid;
            else hi = mid - 1;
        }
        return lo;
    }

    private void checkSequence(long i) {
        if (i < 0 || i >= sequenceCount) throw new IndexOutOfBoundsException(indexFile() + ": sequence " + i + " of " + sequenceCount);
    }

    private void checkDocument(long d) {
        if (d < 0 || d >= documentCount()) throw new IndexOutOfBoundsException(indexFile() + ": document " + d + " of " + documentCount());
    }

    @Override
    public String name() {
        return tokens.name();
    }

    @Override
    public long length() {
        return tokens.length();
    }

    @Override
    public void read(long offset, int[] dst, int dstOffset, int count) {
        tokens.read(offset, dst, dstOffset, count);
    }

    @Override
    public String toString() {
        return prefix + " (megatron, " + sequenceCount + " sequences, " + documentCount() + " documents, " + tokens.length()
                + " tokens, tokenizer " + tokens.describeTokenizer() + ")";
    }
}
