package dev.cpt.data.shard;

import dev.cpt.record.AtomicFiles;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The Megatron-LM / GPT-NeoX "mmap" indexed dataset: {@code PREFIX.bin} holds the tokens,
 * {@code PREFIX.idx} says where each sequence starts and which sequences make each document. The
 * format of Megatron-LM's {@code megatron/core/datasets/indexed_dataset.py} and GPT-NeoX's
 * {@code megatron/data/indexed_dataset.py} ({@code MMapIndexedDataset}), as their
 * {@code preprocess_data.py} scripts write it. Read memory-mapped ({@link #open}); written by
 * {@link #writer}.
 *
 * <h2>{@code PREFIX.idx} byte layout (all integers little-endian)</h2>
 * <pre>
 * offset            size     field
 * 0                 9        magic: the bytes "MMIDIDX" 0x00 0x00
 * 9                 8        version, uint64: 1
 * 17                1        dtype code, uint8, of the tokens in .bin:
 *                              1 uint8, 2 int8, 3 int16, 4 int32, 5 int64, 6 and 7 floating point,
 *                              8 uint16 (cpt reads 1, 4 and 8)
 * 18                8        S, the number of sequences, uint64
 * 26                8        D, the number of document-index entries, uint64 (documents + 1)
 * 34                4·S      sizes: tokens in each sequence, int32
 * 34 + 4·S          8·S      pointers: byte offset of each sequence in .bin, int64
 * 34 + 12·S         8·D      document index: the first sequence of each document, int64;
 *                              entry 0 is 0 and entry D-1 is S, so document d is sequences
 *                              [doc[d], doc[d+1])
 * 34 + 12·S + 8·D            end of file
 * </pre>
 * (Megatron-LM's multimodal datasets add S int8 sequence modes at the end; fairseq's older
 * MMIDIDX has no document count or index. Neither is read.)
 *
 * <h2>{@code PREFIX.bin} byte layout</h2>
 * <pre>
 * offset 0:  the tokens of sequence 0, then of sequence 1, ... each token w bytes little-endian,
 *            w = 1 (uint8), 2 (uint16) or 4 (int32) by the dtype code
 * </pre>
 * No header. Nothing is added between documents by the format: GPT-NeoX and Megatron append the
 * end-of-document token to every document only when prepared with {@code --append-eod}.
 *
 * <h2>Checks</h2>
 * The magic, version 1, a dtype cpt reads, the index's length equal to {@code 34 + 12·S + 8·D}
 * exactly, every size non-negative, {@code pointers[0] == 0} and {@code pointers[i+1] ==
 * pointers[i] + sizes[i]·w} (sequences contiguous, in order), the document index starting at 0,
 * never decreasing and ending at S, the {@code .bin}'s size equal to {@code Σ sizes · w}, and every
 * token id below the vocabulary size (the first offender with its index, byte offset, sequence and
 * document).
 *
 * <h2>Tokenizer</h2>
 * Not recorded in either file: the caller gives it, or GPT-2's ({@link TokenizerInfo#GPT2}) is
 * assumed and the shard says so. Data tokenized with GPT-NeoX-20B's tokenizer (the Pile, Pythia)
 * needs {@link TokenizerInfo#NEOX20B}.
 *
 * <h2>Writing</h2>
 * One sequence per document (so {@code doc[d] = d}), with the tokenizer's end-of-text token
 * appended to each document when asked; dtype uint16 (code 8) when the vocabulary has at most
 * 65,536 ids, else int32 (code 4). Both files are written under temporary names and renamed into
 * place, the {@code .idx} last, so a {@code .idx} always describes a complete {@code .bin}.
 */
public final class MegatronFormat {
    public static final String FORMAT = "megatron";
    /** The 9 magic bytes that open an {@code .idx}. */
    public static final byte[] MAGIC = "MMIDIDX\0\0".getBytes(StandardCharsets.US_ASCII);
    public static final long VERSION = 1;
    /** Magic, version, dtype code, sequence count, document-index count. */
    public static final int HEADER_BYTES = 9 + 8 + 1 + 8 + 8;
    public static final int DTYPE_UINT8 = 1;
    public static final int DTYPE_INT32 = 4;
    public static final int DTYPE_UINT16 = 8;

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private MegatronFormat() {}

    /** The dataset prefix of {@code path}: itself, or without its {@code .bin} / {@code .idx}. */
    public static Path prefixOf(Path path) {
        String name = path.getFileName().toString();
        if (name.endsWith(".bin") || name.endsWith(".idx")) return path.resolveSibling(name.substring(0, name.length() - 4));
        return path;
    }

    public static Path dataFile(Path prefix) {
        return prefix.resolveSibling(prefix.getFileName() + ".bin");
    }

    public static Path indexFile(Path prefix) {
        return prefix.resolveSibling(prefix.getFileName() + ".idx");
    }

    /** The numpy name of a dtype code, as the two implementations' tables give it. */
    static String dtypeName(int code) {
        return switch (code) {
            case 1 -> "uint8";
            case 2 -> "int8";
            case 3 -> "int16";
            case 4 -> "int32";
            case 5 -> "int64";
            case 6, 7 -> "floating point";
            case 8 -> "uint16";
            default -> null;
        };
    }

    /**
     * Opens and checks a dataset.
     *
     * @param path the prefix, {@code PREFIX.bin} or {@code PREFIX.idx}
     * @param hintOrNull the tokenizer that made the data, or null to assume GPT-2's
     */
    public static MegatronDataset open(Path path, TokenizerInfo hintOrNull) {
        Path prefix = prefixOf(path);
        Path idx = indexFile(prefix);
        Path bin = dataFile(prefix);
        TokenizerInfo tokenizer = ShardFiles.tokenizerOr(hintOrNull, TokenizerInfo.GPT2);

        FileChannel ich = ShardFiles.openRead(idx, "the Megatron index of " + bin.getFileName());
        MemorySegment index;
        int code;
        int width;
        long sequences;
        long docEntries;
        try {
            long size = ShardFiles.size(ich, idx);
            if (size < 9) {
                throw new ShardFormatException(idx, (size == 0 ? "empty" : "truncated: " + size + " bytes")
                        + ", not a Megatron index (it opens with the " + HEADER_BYTES + "-byte MMIDIDX header)");
            }
            ByteBuffer magic = ShardFiles.read(ich, idx, 0, 9);
            byte[] m = new byte[9];
            magic.get(m);
            if (!Arrays.equals(m, MAGIC)) {
                String hint = Arrays.equals(Arrays.copyOf(m, 8), "TNTIDX\0\0".getBytes(StandardCharsets.US_ASCII))
                        ? " (TNTIDX is the older lazy/cached indexed dataset; re-run preprocessing with --dataset-impl mmap)" : "";
                throw new ShardFormatException(idx, "not a Megatron MMIDIDX index: it starts with " + printable(m)
                        + " instead of \"MMIDIDX\\0\\0\"" + hint);
            }
            if (size < HEADER_BYTES) {
                throw new ShardFormatException(idx, "truncated: " + size + " bytes, shorter than the " + HEADER_BYTES + "-byte header");
            }
            ByteBuffer h = ShardFiles.read(ich, idx, 9, HEADER_BYTES - 9);
            long version = h.getLong(0);
            if (version != VERSION) {
                throw new ShardFormatException(idx, "index version " + Long.toUnsignedString(version) + " is not supported (only "
                        + VERSION + ")");
            }
            code = Byte.toUnsignedInt(h.get(8));
            width = switch (code) {
                case DTYPE_UINT8 -> 1;
                case DTYPE_UINT16 -> 2;
                case DTYPE_INT32 -> 4;
                default -> throw new ShardFormatException(idx, "dtype code " + code
                        + (dtypeName(code) == null ? " is not a Megatron dtype code (1 to 8)" : " (" + dtypeName(code) + ") is not supported")
                        + "; token dtypes read: uint8 (1), int32 (4), uint16 (8)");
            };
            sequences = h.getLong(9);
            docEntries = h.getLong(17);
            long expected = expectedIndexSize(sequences, docEntries);
            if (expected != size) {
                throw new ShardFormatException(idx, "the index is " + size + " bytes, but its header's counts (" + Long.toUnsignedString(sequences)
                        + " sequences, " + Long.toUnsignedString(docEntries) + " document-index entries) make " + HEADER_BYTES
                        + " + 12·" + Long.toUnsignedString(sequences) + " + 8·" + Long.toUnsignedString(docEntries) + " = "
                        + (expected < 0 ? "more than 2^63" : Long.toString(expected)) + " bytes"
                        + (expected >= 0 ? " (" + (size < expected ? "truncated" : "too long") + ")" : "")
                        + layoutHint(ich, idx, size, sequences, expected));
            }
            if (docEntries < 1) {
                throw new ShardFormatException(idx, "the document index is empty; it needs at least its first entry, 0");
            }
            index = ShardFiles.map(ich, idx, 0, size);
        } finally {
            ShardFiles.close(ich);
        }

        // Sequences contiguous and in order; the document index well formed.
        long sizesAt = HEADER_BYTES;
        long pointersAt = sizesAt + 4 * sequences;
        long docsAt = pointersAt + 8 * sequences;
        long next = 0;
        for (long i = 0; i < sequences; i++) {
            int n = index.get(I32, sizesAt + 4 * i);
            long p = index.get(I64, pointersAt + 8 * i);
            if (n < 0) throw new ShardFormatException(idx, "sequence " + i + " has a negative size " + n);
            if (p != next) {
                throw new ShardFormatException(idx, "sequence " + i + " starts at byte " + p + " of " + bin.getFileName() + ", expected "
                        + next + (i == 0 ? " (the first sequence starts at 0)"
                        : " (where sequence " + (i - 1) + " ends: the sequences are not contiguous " + width + "-byte tokens)"));
            }
            next += (long) n * width;
        }
        long previous = 0;
        for (long d = 0; d < docEntries; d++) {
            long s = index.get(I64, docsAt + 8 * d);
            if (d == 0 && s != 0) throw new ShardFormatException(idx, "document index entry 0 is " + s + ", not 0");
            if (s < previous || s > sequences) {
                throw new ShardFormatException(idx, "document index entry " + d + " is " + s + ": not between the previous entry "
                        + previous + " and the sequence count " + sequences);
            }
            previous = s;
        }
        if (previous != sequences) {
            throw new ShardFormatException(idx, "the document index ends at sequence " + previous + ", not at the sequence count "
                    + sequences);
        }

        FileChannel bch = ShardFiles.openRead(bin, "the Megatron data file of " + idx.getFileName());
        TokenShard tokens;
        try {
            long size = ShardFiles.size(bch, bin);
            if (size != next) {
                throw new ShardFormatException(bin, ShardFiles.sizeProblem(next, size)
                        + (size % width != 0 ? " (not a whole number of " + width + "-byte tokens)" : "") + ": " + idx.getFileName() + " describes "
                        + (next / width) + " tokens of " + width + " bytes (" + dtypeName(code) + ") in " + sequences
                        + " sequences; the index does not match this data file");
            }
            tokens = new TokenShard(bin, ShardFiles.map(bch, bin, 0, size), width, tokenizer, FORMAT, ShardFiles.origin(hintOrNull));
        } finally {
            ShardFiles.close(bch);
        }
        MegatronDataset dataset = new MegatronDataset(prefix, tokens, index, code, sequences, docEntries);

        long bad = tokens.firstOutOfVocabulary(tokenizer.vocabSize());
        if (bad >= 0) {
            long s = dataset.sequenceOfToken(bad);
            String where = ", sequence " + s + ", document " + dataset.documentOfSequence(s);
            if (code == DTYPE_INT32 && tokens.token(bad) < 0) {
                throw new ShardFormatException(bin, "token " + tokens.token(bad) + " at index " + bad + " (byte offset " + bad * width
                        + where + ") is negative");
            }
            throw new ShardFormatException(bin, ShardFiles.outOfVocabulary(tokens, bad, bad * width, where));
        }
        return dataset;
    }

    /** {@code 34 + 12·S + 8·D}, or -1 when the (unsigned) counts make it overflow a long. */
    private static long expectedIndexSize(long sequences, long docEntries) {
        if (sequences < 0 || docEntries < 0) return -1;
        try {
            return Math.addExact(Math.addExact(HEADER_BYTES, Math.multiplyExact(12L, sequences)), Math.multiplyExact(8L, docEntries));
        } catch (ArithmeticException e) {
            return -1;
        }
    }

    /** Says which other MMIDIDX layout an index of the wrong length has, where one fits. */
    private static String layoutHint(FileChannel ch, Path idx, long size, long sequences, long expected) {
        if (expected >= 0 && size == expected + sequences) {
            return "; the extra " + sequences + " bytes would be Megatron-LM's per-sequence modes of a multimodal dataset, which cpt does not read";
        }
        // fairseq's MMIDIDX: no document count, so sizes start at 26
        if (sequences >= 0 && sequences < Long.MAX_VALUE / 12 && size == 26 + 12 * sequences) {
            return "; its length fits fairseq's older MMIDIDX without a document index, which cpt does not read";
        }
        return "";
    }

    private static String printable(byte[] b) {
        StringBuilder s = new StringBuilder("\"");
        for (byte x : b) {
            if (x >= 0x20 && x < 0x7f && x != '"' && x != '\\') s.append((char) x);
            else s.append(String.format("\\x%02x", x & 0xff));
        }
        return s.append('"').toString();
    }

    /**
     * A writer of one sequence per document.
     *
     * @param path the prefix, {@code PREFIX.bin} or {@code PREFIX.idx}
     * @param appendEndOfDocument whether to append {@code tokenizer.endOfText()} to every document
     */
    public static ShardWriter writer(Path path, TokenizerInfo tokenizer, boolean appendEndOfDocument) throws IOException {
        return new Writer(prefixOf(path), tokenizer, appendEndOfDocument);
    }

    private static final class Writer implements ShardWriter {
        private final Path bin;
        private final Path idx;
        private final Path binTmp;
        private final Path sizesTmp;
        private final TokenizerInfo tokenizer;
        private final boolean appendEod;
        private final int width;
        private final OutputStream out;
        private final OutputStream sizes;
        private final byte[] buf = new byte[8];
        private long tokens;
        private long documents;
        private boolean closed;

        Writer(Path prefix, TokenizerInfo tokenizer, boolean appendEod) throws IOException {
            this.bin = dataFile(prefix);
            this.idx = indexFile(prefix);
            this.binTmp = bin.resolveSibling("." + bin.getFileName() + ".tmp");
            this.sizesTmp = idx.resolveSibling("." + idx.getFileName() + ".sizes.tmp");
            this.tokenizer = tokenizer;
            this.appendEod = appendEod;
            this.width = tokenizer.vocabSize() <= 65536 ? 2 : 4;
            if (tokenizer.vocabSize() <= 0) throw new IllegalArgumentException("vocabulary size " + tokenizer.vocabSize());
            if (appendEod && (tokenizer.endOfText() < 0 || tokenizer.endOfText() >= tokenizer.vocabSize())) {
                throw new IllegalArgumentException("end-of-text token " + tokenizer.endOfText() + " is not below the vocabulary size "
                        + tokenizer.vocabSize());
            }
            Files.createDirectories(bin.toAbsolutePath().getParent());
            Files.deleteIfExists(idx); // an old index must not describe a new, unfinished .bin
            this.out = new BufferedOutputStream(Files.newOutputStream(binTmp), 1 << 16);
            this.sizes = new BufferedOutputStream(Files.newOutputStream(sizesTmp), 1 << 14);
        }

        @Override
        public void writeDocument(int[] t, int from, int to) throws IOException {
            if (closed) throw new IllegalStateException("closed");
            for (int i = from; i < to; i++) {
                if (t[i] < 0 || t[i] >= tokenizer.vocabSize()) {
                    throw new IllegalArgumentException("token " + t[i] + " is not below the vocabulary size " + tokenizer.vocabSize());
                }
            }
            long n = (long) to - from + (appendEod ? 1 : 0);
            if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("a document of " + n + " tokens does not fit an int32 size");
            for (int i = from; i < to; i++) put(t[i]);
            if (appendEod) put(tokenizer.endOfText());
            putLE(sizes, n, 4);
            documents++;
        }

        private void put(int token) throws IOException {
            putLE(out, token, width);
            tokens++;
        }

        private void putLE(OutputStream o, long v, int bytes) throws IOException {
            for (int i = 0; i < bytes; i++) buf[i] = (byte) (v >>> (8 * i));
            o.write(buf, 0, bytes);
        }

        @Override
        public long tokens() {
            return tokens;
        }

        @Override
        public long documents() {
            return documents;
        }

        @Override
        public void close() throws IOException {
            if (closed) return;
            closed = true;
            try {
                out.close();
                sizes.close();
                force(binTmp);
                AtomicFiles.move(binTmp, bin);
                AtomicFiles.write(idx, this::writeIndex); // renamed into place last
            } finally {
                Files.deleteIfExists(sizesTmp);
                Files.deleteIfExists(binTmp);
            }
        }

        private void writeIndex(OutputStream raw) throws IOException {
            OutputStream o = new BufferedOutputStream(raw, 1 << 16);
            o.write(MAGIC);
            putLE(o, VERSION, 8);
            o.write(width == 2 ? DTYPE_UINT16 : DTYPE_INT32);
            putLE(o, documents, 8); // sequences: one per document
            putLE(o, documents + 1, 8); // document-index entries
            try (InputStream in = new BufferedInputStream(Files.newInputStream(sizesTmp), 1 << 16)) {
                in.transferTo(o);
            }
            try (InputStream in = new BufferedInputStream(Files.newInputStream(sizesTmp), 1 << 16)) {
                byte[] s = new byte[4];
                long pointer = 0;
                for (long i = 0; i < documents; i++) {
                    if (in.readNBytes(s, 0, 4) != 4) throw new IOException(sizesTmp + ": ended after " + i + " sizes of " + documents);
                    putLE(o, pointer, 8);
                    pointer += (long) ByteBuffer.wrap(s).order(ByteOrder.LITTLE_ENDIAN).getInt() * width;
                }
            }
            for (long d = 0; d <= documents; d++) putLE(o, d, 8);
            o.flush();
        }

        private static void force(Path file) throws IOException {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
        }
    }
}
