package dev.cpt.data.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MegatronFormatTest {
    @TempDir
    Path tmp;

    private static final TokenizerInfo SMALL = new TokenizerInfo("small", 100, 0);

    /**
     * An index built from the documented layout: magic, version, dtype code, counts, int32 sizes,
     * int64 pointers, int64 document index.
     */
    static LE index(int version, int code, int[] sizes, long[] pointers, long[] docIdx) {
        return new LE().ascii("MMIDIDX\0\0").i64(version).u8(code).i64(sizes.length).i64(docIdx.length)
                .i32(sizes).i64(pointers).i64(docIdx);
    }

    /** Pointers of contiguous sequences of {@code width}-byte tokens. */
    static long[] pointers(int[] sizes, int width) {
        long[] p = new long[sizes.length];
        for (int i = 1; i < sizes.length; i++) p[i] = p[i - 1] + (long) sizes[i - 1] * width;
        return p;
    }

    private Path prefix(String name) {
        return tmp.resolve(name);
    }

    private static Path idx(Path prefix) {
        return prefix.resolveSibling(prefix.getFileName() + ".idx");
    }

    private static Path bin(Path prefix) {
        return prefix.resolveSibling(prefix.getFileName() + ".bin");
    }

    // ---------------------------------------------------------------- writing and reading back

    @Test
    void writtenDocumentsReadBackExactlyWithEndOfDocumentAppended() throws IOException {
        Path p = prefix("en_text_document");
        try (ShardWriter w = MegatronFormat.writer(p, SMALL, true)) {
            w.writeDocument(new int[] {1, 2, 3});
            w.writeDocument(new int[] {9, 4, 99}, 1, 2);
            w.writeDocument(new int[0]);
            assertThat(w.tokens()).isEqualTo(7);
            assertThat(w.documents()).isEqualTo(3);
        }
        MegatronDataset d = MegatronFormat.open(p, SMALL);
        assertThat(d.documentCount()).isEqualTo(3);
        assertThat(d.sequenceCount()).isEqualTo(3);
        assertThat(d.dtypeCode()).isEqualTo(8);
        assertThat(d.document(0)).containsExactly(1, 2, 3, 0);
        assertThat(d.document(1)).containsExactly(4, 0);
        assertThat(d.document(2)).containsExactly(0);
        assertThat(LE.all(d.tokens())).containsExactly(1, 2, 3, 0, 4, 0, 0);
        assertThat(d.tokens().format()).isEqualTo("megatron");
        assertThat(d.tokens().tokenizerOrigin()).isEqualTo(TokenShard.TokenizerOrigin.GIVEN);
        assertThat(Files.size(bin(p))).isEqualTo(14);
        assertThat(Files.size(idx(p))).isEqualTo(34 + 12 * 3 + 8 * 4);
    }

    @Test
    void theWrittenIndexIsTheDocumentedLayoutByteForByte() throws IOException {
        Path p = prefix("exact");
        try (ShardWriter w = MegatronFormat.writer(p, SMALL, false)) {
            w.writeDocument(new int[] {5, 6, 7});
            w.writeDocument(new int[] {});
            w.writeDocument(new int[] {8, 9});
        }
        assertThat(Files.readAllBytes(idx(p)))
                .isEqualTo(index(1, 8, new int[] {3, 0, 2}, new long[] {0, 6, 6}, new long[] {0, 1, 2, 3}).toBytes());
        assertThat(Files.readAllBytes(bin(p))).isEqualTo(new LE().u16(5, 6, 7, 8, 9).toBytes());
        MegatronDataset d = MegatronFormat.open(p, SMALL);
        assertThat(d.document(0)).containsExactly(5, 6, 7);
        assertThat(d.document(1)).isEmpty();
        assertThat(d.document(2)).containsExactly(8, 9);
    }

    @Test
    void manyRandomDocumentsRoundTripExactly() throws IOException {
        SplittableRandom r = new SplittableRandom(42);
        TokenizerInfo gpt2 = TokenizerInfo.GPT2;
        List<int[]> docs = new ArrayList<>();
        for (int i = 0; i < 500; i++) docs.add(r.ints(r.nextInt(0, 300), 0, 50256).toArray());
        Path p = prefix("random");
        try (ShardWriter w = MegatronFormat.writer(p, gpt2, true)) {
            for (int[] doc : docs) w.writeDocument(doc);
        }
        MegatronDataset d = MegatronFormat.open(bin(p), null);
        assertThat(d.documentCount()).isEqualTo(docs.size());
        long start = 0;
        for (int i = 0; i < docs.size(); i++) {
            int[] expected = java.util.Arrays.copyOf(docs.get(i), docs.get(i).length + 1);
            expected[expected.length - 1] = 50256;
            assertThat(d.document(i)).as("document %d", i).isEqualTo(expected);
            assertThat(d.documentStart(i)).isEqualTo(start);
            assertThat(d.sequencePointer(i)).isEqualTo(start * 2);
            start += expected.length;
        }
        assertThat(d.tokens().length()).isEqualTo(start);
        assertThat(d.tokens().tokenizer()).isEqualTo(TokenizerInfo.GPT2);
        assertThat(d.tokens().tokenizerOrigin()).isEqualTo(TokenShard.TokenizerOrigin.ASSUMED);
    }

    @Test
    void vocabulariesAbove65536AreWrittenAsInt32() throws IOException {
        TokenizerInfo big = new TokenizerInfo("big", 100_000, 99_999);
        Path p = prefix("wide");
        try (ShardWriter w = MegatronFormat.writer(p, big, true)) {
            w.writeDocument(new int[] {70_000, 1});
        }
        MegatronDataset d = MegatronFormat.open(idx(p), big);
        assertThat(d.dtypeCode()).isEqualTo(4);
        assertThat(d.tokens().bytesPerToken()).isEqualTo(4);
        assertThat(d.document(0)).containsExactly(70_000, 1, 99_999);
        assertThat(Files.readAllBytes(idx(p))).isEqualTo(index(1, 4, new int[] {3}, new long[] {0}, new long[] {0, 1}).toBytes());
    }

    @Test
    void theIndexIsRenamedIntoPlaceLastAndAnOldOneRemovedFirst() throws IOException {
        Path p = prefix("atomic");
        try (ShardWriter w = MegatronFormat.writer(p, SMALL, false)) {
            w.writeDocument(new int[] {1});
        }
        assertThat(idx(p)).exists();
        ShardWriter w = MegatronFormat.writer(p, SMALL, false);
        assertThat(idx(p)).as("the old index must not describe the new .bin").doesNotExist();
        w.writeDocument(new int[] {1, 2});
        w.close();
        assertThat(MegatronFormat.open(p, SMALL).document(0)).containsExactly(1, 2);
        try (var files = Files.list(tmp)) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactlyInAnyOrder("atomic.bin", "atomic.idx");
        }
    }

    @Test
    void theWriterRefusesTokensOutsideTheVocabulary() throws IOException {
        try (ShardWriter w = MegatronFormat.writer(prefix("bad"), SMALL, true)) {
            assertThatThrownBy(() -> w.writeDocument(new int[] {1, 100}))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("token 100 is not below the vocabulary size 100");
        }
    }

    // ---------------------------------------------------------------- hand-built files

    @Test
    void handBuiltIndexWithSeveralSequencesPerDocumentReadsCorrectly() throws IOException {
        // three documents: [seq0 seq1], [seq2], [seq3 seq4]; sentence-split data looks like this
        int[] sizes = {2, 3, 1, 2, 2};
        Path p = prefix("sentences");
        index(1, 8, sizes, pointers(sizes, 2), new long[] {0, 2, 3, 5}).writeTo(idx(p));
        new LE().u16(10, 11, 20, 21, 22, 30, 40, 41, 50, 0).writeTo(bin(p));
        MegatronDataset d = MegatronFormat.open(p, SMALL);
        assertThat(d.sequenceCount()).isEqualTo(5);
        assertThat(d.documentCount()).isEqualTo(3);
        assertThat(d.sequence(1)).containsExactly(20, 21, 22);
        assertThat(d.sequence(4)).containsExactly(50, 0);
        assertThat(d.document(0)).containsExactly(10, 11, 20, 21, 22);
        assertThat(d.document(1)).containsExactly(30);
        assertThat(d.document(2)).containsExactly(40, 41, 50, 0);
        assertThat(d.documentFirstSequence(2)).isEqualTo(3);
        assertThat(d.documentStart(2)).isEqualTo(6);
        assertThat(d.sequenceOfToken(6)).isEqualTo(3);
        assertThat(d.documentOfSequence(4)).isEqualTo(2);
        assertThat(LE.all(d)).containsExactly(10, 11, 20, 21, 22, 30, 40, 41, 50, 0);
    }

    @Test
    void handBuiltUint8AndInt32DataReadCorrectly() throws IOException {
        int[] sizes = {3, 1};
        Path p8 = prefix("u8");
        index(1, 1, sizes, pointers(sizes, 1), new long[] {0, 1, 2}).writeTo(idx(p8));
        new LE().u8(255, 0, 7, 99).writeTo(bin(p8));
        MegatronDataset d8 = MegatronFormat.open(p8, new TokenizerInfo("bytes", 256, 0));
        assertThat(d8.document(0)).containsExactly(255, 0, 7);
        assertThat(d8.document(1)).containsExactly(99);

        Path p32 = prefix("i32");
        index(1, 4, sizes, pointers(sizes, 4), new long[] {0, 2}).writeTo(idx(p32));
        new LE().i32(50_000, 65_536, 1, 50_431).writeTo(bin(p32));
        MegatronDataset d32 = MegatronFormat.open(p32, new TokenizerInfo("padded", 100_000, 0));
        assertThat(d32.documentCount()).isEqualTo(1);
        assertThat(d32.document(0)).containsExactly(50_000, 65_536, 1, 50_431);
        assertThat(d32.sequence(1)).containsExactly(50_431);
    }

    @Test
    void anEmptyButConsistentDatasetOpens() throws IOException {
        Path p = prefix("none");
        index(1, 8, new int[0], new long[0], new long[] {0}).writeTo(idx(p));
        Files.write(bin(p), new byte[0]);
        MegatronDataset d = MegatronFormat.open(p, null);
        assertThat(d.documentCount()).isZero();
        assertThat(d.length()).isZero();
    }

    // ---------------------------------------------------------------- corrupt files

    private Path good(String name) throws IOException {
        Path p = prefix(name);
        int[] sizes = {2, 1};
        index(1, 8, sizes, pointers(sizes, 2), new long[] {0, 1, 2}).writeTo(idx(p));
        new LE().u16(1, 2, 3).writeTo(bin(p));
        assertThat(MegatronFormat.open(p, SMALL).document(1)).containsExactly(3);
        return p;
    }

    @Test
    void wrongMagicIsRejected() throws IOException {
        Path p = good("magic");
        byte[] b = Files.readAllBytes(idx(p));
        b[6] = 'Y';
        Files.write(idx(p), b);
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL)).isInstanceOf(ShardFormatException.class)
                .hasMessage(idx(p) + ": not a Megatron MMIDIDX index: it starts with \"MMIDIDY\\x00\\x00\" instead of \"MMIDIDX\\0\\0\"");
        new LE().ascii("TNTIDX\0\0").i64(1).zeros(40).writeTo(idx(p));
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL))
                .hasMessageContaining("TNTIDX is the older lazy/cached indexed dataset");
    }

    @Test
    void wrongVersionIsRejected() throws IOException {
        Path p = good("version");
        int[] sizes = {2, 1};
        index(2, 8, sizes, pointers(sizes, 2), new long[] {0, 1, 2}).writeTo(idx(p));
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL))
                .hasMessage(idx(p) + ": index version 2 is not supported (only 1)");
    }

    @Test
    void unsupportedDtypesAreRejectedByName() throws IOException {
        Path p = good("dtype");
        int[] sizes = {2, 1};
        index(1, 5, sizes, pointers(sizes, 8), new long[] {0, 2}).writeTo(idx(p));
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL)).hasMessage(idx(p)
                + ": dtype code 5 (int64) is not supported; token dtypes read: uint8 (1), int32 (4), uint16 (8)");
        index(1, 6, sizes, pointers(sizes, 8), new long[] {0, 2}).writeTo(idx(p));
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL)).hasMessageContaining("dtype code 6 (floating point) is not supported");
        index(1, 3, sizes, pointers(sizes, 2), new long[] {0, 2}).writeTo(idx(p));
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL)).hasMessageContaining("dtype code 3 (int16) is not supported");
        index(1, 9, sizes, pointers(sizes, 2), new long[] {0, 2}).writeTo(idx(p));
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL))
                .hasMessageContaining("dtype code 9 is not a Megatron dtype code (1 to 8)");
    }

    @Test
    void anIndexWhoseLengthDoesNotMatchItsCountsIsRejected() throws IOException {
        Path p = good("length");
        byte[] b = Files.readAllBytes(idx(p)); // 34 + 24 + 24 = 82 bytes
        Files.write(idx(p), java.util.Arrays.copyOf(b, b.length + 1));
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL)).hasMessage(idx(p) + ": the index is 83 bytes, but its header's counts "
                + "(2 sequences, 3 document-index entries) make 34 + 12·2 + 8·3 = 82 bytes (too long)");
        Files.write(idx(p), java.util.Arrays.copyOf(b, b.length - 8));
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL)).hasMessageContaining("= 82 bytes (truncated)");
        Files.write(idx(p), java.util.Arrays.copyOf(b, 20));
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL))
                .hasMessage(idx(p) + ": truncated: 20 bytes, shorter than the 34-byte header");
        Files.write(idx(p), java.util.Arrays.copyOf(b, b.length + 2)); // 2 sequence modes: multimodal
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL)).hasMessageContaining("multimodal");
        // fairseq: magic, version, dtype, count, sizes, pointers; no document count or index
        new LE().ascii("MMIDIDX\0\0").i64(1).u8(8).i64(2).i32(2, 1).i64(0, 4).writeTo(idx(p));
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL)).hasMessageContaining("fairseq's older MMIDIDX");
        index(1, 8, new int[] {2, 1}, new long[] {0, 4}, new long[0]).writeTo(idx(p));
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL))
                .hasMessage(idx(p) + ": the document index is empty; it needs at least its first entry, 0");
        new LE().ascii("MMIDIDX\0\0").i64(1).u8(8).i64(-1).i64(1).writeTo(idx(p)); // 2^64 - 1 sequences
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL)).hasMessageContaining("18446744073709551615 sequences")
                .hasMessageContaining("more than 2^63 bytes");
    }

    @Test
    void pointersThatAreNotContiguousSequencesAreRejected() throws IOException {
        Path p = good("pointers");
        index(1, 8, new int[] {2, 1}, new long[] {2, 6}, new long[] {0, 2}).writeTo(idx(p));
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL))
                .hasMessage(idx(p) + ": sequence 0 starts at byte 2 of pointers.bin, expected 0 (the first sequence starts at 0)");
        index(1, 8, new int[] {2, 1}, new long[] {0, 2}, new long[] {0, 2}).writeTo(idx(p));
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL)).hasMessage(idx(p) + ": sequence 1 starts at byte 2 of pointers.bin, "
                + "expected 4 (where sequence 0 ends: the sequences are not contiguous 2-byte tokens)");
        index(1, 8, new int[] {2, -1}, new long[] {0, 4}, new long[] {0, 2}).writeTo(idx(p));
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL)).hasMessage(idx(p) + ": sequence 1 has a negative size -1");
    }

    @Test
    void aMalformedDocumentIndexIsRejected() throws IOException {
        Path p = good("docs");
        int[] sizes = {2, 1};
        long[] ptr = pointers(sizes, 2);
        index(1, 8, sizes, ptr, new long[] {1, 2}).writeTo(idx(p));
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL)).hasMessage(idx(p) + ": document index entry 0 is 1, not 0");
        index(1, 8, sizes, ptr, new long[] {0, 2, 1, 2}).writeTo(idx(p));
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL))
                .hasMessage(idx(p) + ": document index entry 2 is 1: not between the previous entry 2 and the sequence count 2");
        index(1, 8, sizes, ptr, new long[] {0, 3}).writeTo(idx(p));
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL)).hasMessageContaining("document index entry 1 is 3");
        index(1, 8, sizes, ptr, new long[] {0, 1}).writeTo(idx(p));
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL))
                .hasMessage(idx(p) + ": the document index ends at sequence 1, not at the sequence count 2");
    }

    @Test
    void aDataFileThatDoesNotMatchItsIndexIsRejected() throws IOException {
        Path p = good("mismatch");
        new LE().u16(1, 2).writeTo(bin(p));
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL))
                .isInstanceOfSatisfying(ShardFormatException.class, e -> assertThat(e.file()).isEqualTo(bin(p)))
                .hasMessage(bin(p) + ": truncated: expected 6 bytes, found 4: mismatch.idx describes 3 tokens of 2 bytes (uint16) "
                        + "in 2 sequences; the index does not match this data file");
        new LE().u16(1, 2, 3, 4).writeTo(bin(p));
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL)).hasMessageStartingWith(bin(p) + ": too long: expected 6 bytes, found 8");
        Files.write(bin(p), new byte[] {1, 0, 2, 0, 3}); // misaligned: half a token
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL)).hasMessageStartingWith(bin(p) + ": truncated: expected 6 bytes, found 5 (not a whole number of 2-byte tokens): mismatch.idx");
    }

    @Test
    void outOfVocabularyTokensAreReportedWithSequenceAndDocument() throws IOException {
        Path p = prefix("oov");
        int[] sizes = {2, 2, 1};
        index(1, 8, sizes, pointers(sizes, 2), new long[] {0, 2, 3}).writeTo(idx(p));
        new LE().u16(1, 2, 3, 100, 5).writeTo(bin(p));
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL)).hasMessage(bin(p) + ": token 100 at index 3 (byte offset 6, "
                + "sequence 1, document 0) is not below the vocabulary size 100 of tokenizer small (vocabulary 100, given by the "
                + "caller: megatron files do not record their tokenizer); give the tokenizer that made the file");
        index(1, 4, sizes, pointers(sizes, 4), new long[] {0, 2, 3}).writeTo(idx(p));
        new LE().i32(1, 2, 3, 4, -5).writeTo(bin(p));
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL))
                .hasMessage(bin(p) + ": token -5 at index 4 (byte offset 16, sequence 2, document 1) is negative");
    }

    @Test
    void emptyAndMissingFilesAreRejected() throws IOException {
        Path p = good("gone");
        Files.delete(bin(p));
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL))
                .hasMessage(bin(p) + ": no such file (the Megatron data file of gone.idx)");
        Files.delete(idx(p));
        assertThatThrownBy(() -> MegatronFormat.open(bin(p), SMALL))
                .hasMessage(idx(p) + ": no such file (the Megatron index of gone.bin)");
        Files.write(idx(p), new byte[0]);
        assertThatThrownBy(() -> MegatronFormat.open(p, SMALL))
                .hasMessage(idx(p) + ": empty, not a Megatron index (it opens with the 34-byte MMIDIDX header)");
    }
}
