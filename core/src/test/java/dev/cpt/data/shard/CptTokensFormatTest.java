package dev.cpt.data.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cpt.data.tokenize.ByteTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CptTokensFormatTest {
    @TempDir
    Path tmp;

    @Test
    void roundTripsDocumentsEachPrecededByEndOfText() throws IOException {
        Path bin = tmp.resolve("a.bin");
        try (ShardWriter w = CptTokensFormat.writer(bin, TokenizerInfo.of(ByteTokenizer.INSTANCE), "books")) {
            w.writeDocument(ByteTokenizer.INSTANCE.encode("hi"));
            w.writeDocument(ByteTokenizer.INSTANCE.encode("yo!"));
        }
        TokenShard s = CptTokensFormat.open(bin);
        int[] all = new int[(int) s.length()];
        s.read(0, all, 0, all.length);
        assertThat(all).containsExactly(0, 'h', 'i', 0, 'y', 'o', '!');
        assertThat(s.bytesPerToken()).isEqualTo(2);
        assertThat(Files.size(bin)).isEqualTo(14);
        assertThat(s.tokenizer().id()).isEqualTo("bytes");
    }

    @Test
    void wideVocabulariesUse32BitTokens() throws IOException {
        Path bin = tmp.resolve("w.bin");
        try (ShardWriter w = CptTokensFormat.writer(bin, new TokenizerInfo("big", 100_000, 99_999), null)) {
            w.writeDocument(new int[] {70_000, 3});
        }
        TokenShard s = CptTokensFormat.open(bin);
        assertThat(s.bytesPerToken()).isEqualTo(4);
        assertThat(s.token(0)).isEqualTo(99_999);
        assertThat(s.token(1)).isEqualTo(70_000);
    }

    @Test
    void corruptShardsAreRejectedNamingTheFileAndPlace() throws IOException {
        Path bin = tmp.resolve("c.bin");
        try (ShardWriter w = CptTokensFormat.writer(bin, TokenizerInfo.of(ByteTokenizer.INSTANCE), null)) {
            w.writeDocument(new int[] {1, 2, 3});
        }
        Files.write(bin, new byte[] {1}, StandardOpenOption.APPEND);
        assertThatThrownBy(() -> CptTokensFormat.open(bin)).isInstanceOf(ShardFormatException.class)
                .hasMessage(bin + ": too long: expected 8 bytes, found 9");
        Files.write(bin, new byte[] {0, 0, 1, 0, 2, 0});
        assertThatThrownBy(() -> CptTokensFormat.open(bin)).hasMessage(bin + ": truncated: expected 8 bytes, found 6");
        Files.write(bin, new byte[] {0, 0, 1, 0, 2, 1, 3, 0}); // token 2 is 0x0102 = 258
        assertThatThrownBy(() -> CptTokensFormat.open(bin))
                .hasMessage(bin + ": token 258 at index 2 (byte offset 4) is not below the vocabulary size 256");
        Path json = CptTokensFormat.sidecarOf(bin);
        Files.writeString(json, Files.readString(json).replace("\"version\" : 1", "\"version\" : 7"));
        assertThatThrownBy(() -> CptTokensFormat.open(bin)).hasMessageContaining(json + ": version 7 is not supported");
        Files.delete(json);
        assertThatThrownBy(() -> CptTokensFormat.open(bin)).hasMessageStartingWith(json + ": cannot read the sidecar");
    }

    @Test
    void anUnfinishedShardHasNoSidecar() throws IOException {
        Path bin = tmp.resolve("u.bin");
        ShardWriter w = CptTokensFormat.writer(bin, TokenizerInfo.of(ByteTokenizer.INSTANCE), null);
        w.writeDocument(new int[] {1});
        assertThat(CptTokensFormat.sidecarOf(bin)).doesNotExist();
        assertThat(bin).doesNotExist();
        w.close();
        assertThat(CptTokensFormat.sidecarOf(bin)).exists();
    }
}
