package dev.cpt.data.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NanoGptFormatTest {
    @TempDir
    Path tmp;

    private static final TokenizerInfo BYTES = new TokenizerInfo("bytes", 256, 0);

    @Test
    void readsRawLittleEndianUint16AssumingGpt2() throws IOException {
        Path bin = new LE().u16(50256, 1, 0x1234, 40000, 50256).writeTo(tmp.resolve("train.bin"));
        TokenShard s = NanoGptFormat.open(bin, null);
        assertThat(LE.all(s)).containsExactly(50256, 1, 0x1234, 40000, 50256);
        assertThat(s.bytesPerToken()).isEqualTo(2);
        assertThat(s.format()).isEqualTo("nanogpt");
        assertThat(s.tokenizer()).isEqualTo(new TokenizerInfo("gpt2", 50257, 50256));
        assertThat(s.tokenizerOrigin()).isEqualTo(TokenShard.TokenizerOrigin.ASSUMED);
        assertThat(s.describeTokenizer()).isEqualTo("gpt2 (vocabulary 50257, assumed: nanogpt files do not record their tokenizer)");
    }

    @Test
    void roundTripsManyTokensThroughTheMapping() throws IOException {
        SplittableRandom r = new SplittableRandom(7);
        int[] tokens = r.ints(100_003, 0, 50257).toArray();
        Path bin = new LE().u16(tokens).writeTo(tmp.resolve("val.bin"));
        TokenShard s = NanoGptFormat.open(bin, null);
        assertThat(LE.all(s)).isEqualTo(tokens);
        int[] window = new int[5];
        s.read(99_998, window, 0, 5);
        assertThat(window).containsExactly(tokens[99_998], tokens[99_999], tokens[100_000], tokens[100_001], tokens[100_002]);
    }

    @Test
    void aGivenTokenizerIsUsedAndChecked() throws IOException {
        Path bin = new LE().u16(10, 255).writeTo(tmp.resolve("b.bin"));
        TokenShard s = NanoGptFormat.open(bin, BYTES);
        assertThat(s.tokenizer()).isEqualTo(BYTES);
        assertThat(s.tokenizerOrigin()).isEqualTo(TokenShard.TokenizerOrigin.GIVEN);

        new LE().u16(10, 255, 300).writeTo(bin);
        assertThatThrownBy(() -> NanoGptFormat.open(bin, BYTES)).isInstanceOf(ShardFormatException.class)
                .hasMessage(bin + ": token 300 at index 2 (byte offset 4) is not below the vocabulary size 256 of tokenizer "
                        + "bytes (vocabulary 256, given by the caller: nanogpt files do not record their tokenizer); "
                        + "give the tokenizer that made the file");
        assertThatThrownBy(() -> NanoGptFormat.open(bin, new TokenizerInfo("llama3", 128256, 128000)))
                .hasMessage(bin + ": tokenizer llama3 (vocabulary 128256) has more ids than nanoGPT's uint16 tokens can hold (65536)");
    }

    @Test
    void tokensOutsideGpt2AreRejectedWithTheirPlace() throws IOException {
        Path bin = new LE().u16(1, 2, 3, 50257).writeTo(tmp.resolve("c.bin"));
        assertThatThrownBy(() -> NanoGptFormat.open(bin, null))
                .hasMessageStartingWith(bin + ": token 50257 at index 3 (byte offset 6) is not below the vocabulary size 50257")
                .hasMessageContaining("assumed");
    }

    @Test
    void emptyMisalignedAndMissingFilesAreRejectedNamingTheFile() throws IOException {
        Path empty = Files.write(tmp.resolve("e.bin"), new byte[0]);
        assertThatThrownBy(() -> NanoGptFormat.open(empty, null)).isInstanceOf(ShardFormatException.class)
                .hasMessage(empty + ": empty: no tokens");
        Path odd = Files.write(tmp.resolve("o.bin"), new byte[] {1, 0, 2});
        assertThatThrownBy(() -> NanoGptFormat.open(odd, null))
                .hasMessage(odd + ": size 3 bytes is odd: not whole uint16 tokens (2 bytes each); truncated, or not a nanoGPT token file");
        Path missing = tmp.resolve("missing.bin");
        assertThatThrownBy(() -> NanoGptFormat.open(missing, null))
                .isInstanceOfSatisfying(ShardFormatException.class, e -> assertThat(e.file()).isEqualTo(missing))
                .hasMessage(missing + ": no such file (a nanoGPT token file)");
    }
}
