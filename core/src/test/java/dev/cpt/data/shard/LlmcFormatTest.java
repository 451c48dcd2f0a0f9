package dev.cpt.data.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LlmcFormatTest {
    @TempDir
    Path tmp;

    /** llm.c's header: 256 int32, the first three magic, version, token count, the rest zero. */
    static LE header(int magic, int version, int count) {
        return new LE().i32(magic, version, count).zeros(253 * 4);
    }

    @Test
    void readsGpt2FilesOfUint16Tokens() throws IOException {
        Path f = header(20240520, 1, 4).u16(50256, 15496, 11, 0).writeTo(tmp.resolve("fineweb_train_000001.bin"));
        assertThat(Files.size(f)).isEqualTo(1024 + 8);
        TokenShard s = LlmcFormat.open(f, null);
        assertThat(LE.all(s)).containsExactly(50256, 15496, 11, 0);
        assertThat(s.bytesPerToken()).isEqualTo(2);
        assertThat(s.format()).isEqualTo("llm.c");
        assertThat(s.tokenizer()).isEqualTo(TokenizerInfo.GPT2);
        assertThat(s.tokenizerOrigin()).isEqualTo(TokenShard.TokenizerOrigin.ASSUMED);
    }

    @Test
    void readsLlama3FilesOfUint32Tokens() throws IOException {
        Path f = header(20240801, 7, 3).i32(128000, 100_000, 5).writeTo(tmp.resolve("l.bin"));
        TokenShard s = LlmcFormat.open(f, null);
        assertThat(LE.all(s)).containsExactly(128000, 100_000, 5);
        assertThat(s.bytesPerToken()).isEqualTo(4);
        assertThat(s.tokenizer()).isEqualTo(new TokenizerInfo("llama3", 128256, 128000));
    }

    @Test
    void aGivenTokenizerReplacesTheAssumedOne() throws IOException {
        TokenizerInfo small = new TokenizerInfo("small", 1000, 999);
        Path f = header(20240520, 1, 2).u16(999, 3).writeTo(tmp.resolve("g.bin"));
        TokenShard s = LlmcFormat.open(f, small);
        assertThat(s.tokenizer()).isEqualTo(small);
        assertThat(s.tokenizerOrigin()).isEqualTo(TokenShard.TokenizerOrigin.GIVEN);
        header(20240520, 1, 2).u16(999, 1000).writeTo(f);
        assertThatThrownBy(() -> LlmcFormat.open(f, small))
                .hasMessageStartingWith(f + ": token 1000 at index 1 (byte offset 1026) is not below the vocabulary size 1000");
    }

    @Test
    void tokenIdsAtOrAboveTheVocabularyAreRejectedWithIndexAndByteOffset() throws IOException {
        Path f = header(20240520, 1, 3).u16(1, 2, 50257).writeTo(tmp.resolve("v.bin"));
        assertThatThrownBy(() -> LlmcFormat.open(f, null)).isInstanceOf(ShardFormatException.class)
                .hasMessageStartingWith(f + ": token 50257 at index 2 (byte offset 1028) is not below the vocabulary size 50257");
    }

    @Test
    void wrongMagicAndVersionAreRejected() throws IOException {
        Path f = tmp.resolve("m.bin");
        header(20240522, 1, 0).writeTo(f); // llm.c's eval files (HellaSwag) have this magic
        assertThatThrownBy(() -> LlmcFormat.open(f, null)).isInstanceOf(ShardFormatException.class)
                .hasMessage(f + ": not an llm.c token file: magic 20240522, expected 20240520 (uint16 tokens) or 20240801 (uint32 tokens)");
        header(20240520, 2, 0).writeTo(f);
        assertThatThrownBy(() -> LlmcFormat.open(f, null))
                .hasMessage(f + ": llm.c version 2 is not supported: files with magic 20240520 are version 1 (uint16 tokens)");
        header(20240801, 1, 0).writeTo(f);
        assertThatThrownBy(() -> LlmcFormat.open(f, null))
                .hasMessage(f + ": llm.c version 1 is not supported: files with magic 20240801 are version 7 (uint32 tokens)");
        header(20240520, 1, -1).writeTo(f);
        assertThatThrownBy(() -> LlmcFormat.open(f, null)).hasMessage(f + ": header says -1 tokens (negative)");
    }

    @Test
    void truncatedAndOverlongFilesAreNamedWithTheirByteCounts() throws IOException {
        Path f = tmp.resolve("t.bin");
        header(20240520, 1, 3).u16(1, 2).writeTo(f);
        assertThatThrownBy(() -> LlmcFormat.open(f, null))
                .hasMessage(f + ": truncated: expected 1030 bytes, found 1028 (a 1024-byte header and 3 tokens of 2 bytes)");
        header(20240520, 1, 1).u16(1, 2).writeTo(f);
        assertThatThrownBy(() -> LlmcFormat.open(f, null))
                .hasMessage(f + ": too long: expected 1026 bytes, found 1028 (a 1024-byte header and 1 tokens of 2 bytes)");
        header(20240801, 7, 2).i32(1).u16(2).writeTo(f);
        assertThatThrownBy(() -> LlmcFormat.open(f, null))
                .hasMessage(f + ": truncated: expected 1032 bytes, found 1030 (a 1024-byte header and 2 tokens of 4 bytes)");
        new LE().i32(20240520, 1, 0).writeTo(f);
        assertThatThrownBy(() -> LlmcFormat.open(f, null))
                .hasMessage(f + ": truncated: 12 bytes, shorter than llm.c's 1024-byte header");
    }

    @Test
    void emptyAndMissingFilesAreRejected() throws IOException {
        Path empty = Files.write(tmp.resolve("e.bin"), new byte[0]);
        assertThatThrownBy(() -> LlmcFormat.open(empty, null))
                .hasMessage(empty + ": truncated: 0 bytes, shorter than llm.c's 1024-byte header");
        Path missing = tmp.resolve("nope.bin");
        assertThatThrownBy(() -> LlmcFormat.open(missing, null)).hasMessage(missing + ": no such file (an llm.c token file)");
    }

    @Test
    void anEmptyTokenListIsAValidFile() throws IOException {
        Path f = header(20240520, 1, 0).writeTo(tmp.resolve("z.bin"));
        assertThat(LlmcFormat.open(f, null).length()).isZero();
    }
}
