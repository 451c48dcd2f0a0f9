package dev.cpt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cpt.data.shard.CptTokensFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrepareCommandTest {
    @TempDir
    Path tmp;

    @Test
    void tokenizesFortuneStyleTextIntoShards() throws IOException {
        Path in = Files.createDirectories(tmp.resolve("in"));
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 200; i++) text.append("cookie number ").append(i).append("\n%\n");
        Files.writeString(in.resolve("cookies"), text);
        Path out = tmp.resolve("out");
        CliRun r = CliRun.run("prepare", in.toString(), "--out", out.toString(), "--separator", "%", "--val", "0.1");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("1 files, tokenizer bytes").contains("train ").contains("val ");
        var train = CptTokensFormat.open(out.resolve("train.bin"));
        var val = CptTokensFormat.open(out.resolve("val.bin"));
        long expected = 0;
        for (int i = 0; i < 200; i++) expected += ("cookie number " + i + "\n").length() + 1; // text + end-of-text
        assertThat(train.length() + val.length()).isEqualTo(expected);
        assertThat(val.length()).isBetween(1L, expected / 4);
        assertThat(out.resolve("prepare.json")).exists();
    }

    @Test
    void badInputIsNamedAndNothingIsWritten() throws IOException {
        Path bad = Files.writeString(tmp.resolve("docs.jsonl"), "{\"text\": \"fine\"}\n{\"txt\": \"no text\"}\n");
        Path out = tmp.resolve("out");
        CliRun r = CliRun.run("prepare", bad.toString(), "--out", out.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains(bad + ":2");
        assertThat(out).doesNotExist();
        CliRun tokenizer = CliRun.run("prepare", bad.toString(), "--out", out.toString(), "--tokenizer", "gpt3");
        assertThat(tokenizer.code()).isEqualTo(1);
        assertThat(tokenizer.err()).contains("--tokenizer");
    }

    @Test
    void buildsTheBuiltinCorporaWithADataCard() {
        Path out = tmp.resolve("builtin");
        CliRun r = CliRun.run("prepare", "--builtin", out.toString(), "--synthetic", "--max-mb", "1");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("built-in corpora (synthetic)").contains("strong").contains("weak").contains("no-shift");
        assertThat(out.resolve("README.md")).exists();
        assertThat(out.resolve("de/train.json")).exists();
        CliRun again = CliRun.run("prepare", "--builtin", out.toString(), "--synthetic", "--max-mb", "1");
        assertThat(again.code()).isZero();
        assertThat(again.err()).contains("kept as they are");
        CliRun other = CliRun.run("prepare", "--builtin", out.toString(), "--synthetic", "--max-mb", "2");
        assertThat(other.code()).isEqualTo(1);
        assertThat(other.err()).contains("already exists");
    }

    @Test
    void inputsAndBuiltinAreOneOrTheOther() {
        CliRun r = CliRun.run("prepare", "x.txt", "--out", "o", "--builtin", "b");
        assertThat(r.code()).isEqualTo(2);
    }
}
