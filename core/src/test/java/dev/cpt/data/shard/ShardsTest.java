package dev.cpt.data.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cpt.data.tokenize.ByteTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardsTest {
    @TempDir
    Path tmp;

    private static final TokenizerInfo BYTES = TokenizerInfo.of(ByteTokenizer.INSTANCE);

    private Path cpt(String name, int[]... docs) throws IOException {
        Path bin = tmp.resolve(name + ".bin");
        try (ShardWriter w = CptTokensFormat.writer(bin, BYTES, null)) {
            for (int[] d : docs) w.writeDocument(d);
        }
        return bin;
    }

    private Path megatron(String name, TokenizerInfo t, int[]... docs) throws IOException {
        Path prefix = tmp.resolve(name);
        try (ShardWriter w = MegatronFormat.writer(prefix, t, true)) {
            for (int[] d : docs) w.writeDocument(d);
        }
        return prefix;
    }

    @Test
    void detectsCptShardsByTheirSidecarHoweverNamed() throws IOException {
        Path bin = cpt("en", new int[] {104, 105});
        Path bare = tmp.resolve("en");
        Path sidecar = tmp.resolve("en.json");
        for (Path p : new Path[] {bin, bare, sidecar}) {
            assertThat(Shards.detect(p)).as("%s", p).isEqualTo(new Shards.Detected(Shards.Format.CPT_TOKENS, bin));
            TokenShard s = Shards.open(p, null);
            assertThat(LE.all(s)).containsExactly(0, 104, 105);
            assertThat(s.format()).isEqualTo("cpt-tokens");
            assertThat(s.tokenizer()).isEqualTo(BYTES);
            assertThat(s.tokenizerOrigin()).isEqualTo(TokenShard.TokenizerOrigin.RECORDED);
        }
        assertThat(Shards.open(bin, BYTES).length()).isEqualTo(3);
        assertThatThrownBy(() -> Shards.open(bin, TokenizerInfo.GPT2)).isInstanceOf(ShardFormatException.class)
                .hasMessage(sidecar + ": records tokenizer bytes (vocabulary 256), but gpt2 (vocabulary 50257) was given");
    }

    @Test
    void detectsMegatronByItsIndexGivenThePrefixTheBinOrTheIdx() throws IOException {
        Path prefix = megatron("pile_text_document", TokenizerInfo.GPT2, new int[] {1, 2}, new int[] {3});
        for (String name : new String[] {"pile_text_document", "pile_text_document.bin", "pile_text_document.idx"}) {
            assertThat(Shards.detect(tmp.resolve(name))).isEqualTo(new Shards.Detected(Shards.Format.MEGATRON, prefix));
            TokenShard s = Shards.open(tmp.resolve(name), null);
            assertThat(LE.all(s)).containsExactly(1, 2, 50256, 3, 50256);
            assertThat(s.format()).isEqualTo("megatron");
            assertThat(s.tokenizerOrigin()).isEqualTo(TokenShard.TokenizerOrigin.ASSUMED);
        }
        TokenizerInfo neox = TokenizerInfo.NEOX20B;
        Path p2 = megatron("neox", neox, new int[] {50276});
        TokenShard s = Shards.open(p2, neox);
        assertThat(LE.all(s)).containsExactly(50276, 0);
        assertThat(s.tokenizer()).isEqualTo(neox);
        assertThat(s.tokenizerOrigin()).isEqualTo(TokenShard.TokenizerOrigin.GIVEN);
        assertThatThrownBy(() -> Shards.open(p2, null)).hasMessageContaining("token 50276 at index 0")
                .hasMessageContaining("assumed: megatron files do not record their tokenizer");
    }

    @Test
    void detectsLlmcByItsMagicWhateverTheName() throws IOException {
        Path f = LlmcFormatTest.header(20240520, 1, 2).u16(50256, 7).writeTo(tmp.resolve("shakespeare_val.bin"));
        assertThat(Shards.detect(f)).isEqualTo(new Shards.Detected(Shards.Format.LLMC, f));
        assertThat(LE.all(Shards.open(f, null))).containsExactly(50256, 7);
        Path g = LlmcFormatTest.header(20240801, 7, 1).i32(128000).writeTo(tmp.resolve("tokens.dat"));
        assertThat(Shards.open(g, null).tokenizer()).isEqualTo(TokenizerInfo.LLAMA3);
        Path bad = LlmcFormatTest.header(20240520, 1, 5).u16(1).writeTo(tmp.resolve("cut.bin"));
        assertThatThrownBy(() -> Shards.open(bad, null)).hasMessageStartingWith(bad + ": truncated: expected 1034 bytes, found 1026");
    }

    @Test
    void anyOtherBinIsNanoGptRawUint16() throws IOException {
        Path f = new LE().u16(15496, 995, 50256).writeTo(tmp.resolve("train.bin"));
        assertThat(Shards.detect(f)).isEqualTo(new Shards.Detected(Shards.Format.NANOGPT, f));
        TokenShard s = Shards.open(f, null);
        assertThat(LE.all(s)).containsExactly(15496, 995, 50256);
        assertThat(s.describeTokenizer()).contains("gpt2", "assumed");
        assertThat(Shards.open(f, new TokenizerInfo("gpt2-padded", 50304, 50256)).tokenizerOrigin())
                .isEqualTo(TokenShard.TokenizerOrigin.GIVEN);
        // a JSON file beside it that is not a cpt sidecar is not taken for one
        Files.writeString(tmp.resolve("train.json"), "{\"vocab_size\": 50257}");
        assertThat(Shards.detect(f).format()).isEqualTo(Shards.Format.NANOGPT);
        // but one that cannot be parsed is an error rather than a guess
        Files.writeString(tmp.resolve("train.json"), "{\"format\": \"cpt-tok");
        assertThatThrownBy(() -> Shards.detect(f)).isInstanceOf(ShardFormatException.class)
                .hasMessageStartingWith(tmp.resolve("train.json") + ": not valid JSON, so it cannot be told whether this is a cpt-tokens sidecar");
    }

    @Test
    void aCorruptFileOfADetectedFormatIsReportedByItsReader() throws IOException {
        Path bin = cpt("c", new int[] {1, 2});
        Files.write(bin, new byte[] {0, 0, 1, 0, 2, 1});
        assertThatThrownBy(() -> Shards.open(bin, null))
                .hasMessage(bin + ": token 258 at index 2 (byte offset 4) is not below the vocabulary size 256");
        Path odd = Files.write(tmp.resolve("odd.bin"), new byte[] {1, 2, 3});
        assertThatThrownBy(() -> Shards.open(odd, null)).hasMessageStartingWith(odd + ": size 3 bytes is odd");
        Path empty = Files.write(tmp.resolve("empty.bin"), new byte[0]);
        assertThatThrownBy(() -> Shards.open(empty, null)).hasMessage(empty + ": empty: no tokens");
        Path prefix = megatron("m", BYTES, new int[] {1});
        Files.write(tmp.resolve("m.bin"), new byte[] {1});
        assertThatThrownBy(() -> Shards.open(prefix, null)).hasMessageStartingWith(tmp.resolve("m.bin") + ": truncated");
    }

    @Test
    void unknownAndMissingFilesNameWhatWasLookedFor() throws IOException {
        Path missing = tmp.resolve("de/train.bin");
        assertThatThrownBy(() -> Shards.open(missing, null)).isInstanceOf(ShardFormatException.class)
                .hasMessage(missing + ": no such file; looked for " + missing + " (a cpt-tokens, llm.c or nanoGPT token file), "
                        + "train.json (a cpt sidecar), train.idx (a Megatron index)");
        Path bare = tmp.resolve("val");
        assertThatThrownBy(() -> Shards.open(bare, null)).hasMessage(bare + ": no such file; looked for " + bare + " or "
                + bare + ".bin (a cpt-tokens, llm.c or nanoGPT token file), val.json (a cpt sidecar), val.idx (a Megatron index)");
        Path unknown = new LE().u16(1, 2, 3).writeTo(tmp.resolve("tokens.npy"));
        assertThatThrownBy(() -> Shards.open(unknown, null)).hasMessage(unknown + ": not a token file cpt recognises: "
                + "no cpt sidecar tokens.npy.json, no Megatron index tokens.npy.idx, no llm.c magic (20240520 or 20240801) in its "
                + "first 4 bytes, and not named *.bin (read as nanoGPT's raw uint16 tokens)");
        assertThatThrownBy(() -> Shards.open(tmp, null)).hasMessage(tmp + ": is a directory, not a token file");
    }
}
