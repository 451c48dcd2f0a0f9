package dev.cpt.data.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.cpt.data.DataOpener;
import dev.cpt.data.DataSources;
import dev.cpt.data.tokenize.ByteTokenizer;
import dev.cpt.spec.RunSpec;
import dev.cpt.spec.SpecReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataOpenerTest {
    @TempDir
    Path tmp;

    private static final TokenizerInfo BYTES = TokenizerInfo.of(ByteTokenizer.INSTANCE);

    /** A spec over datasets en and de; {@code vocab} null keeps the toy preset's 256. */
    private static RunSpec spec(String enTrain, String enVal, String deTrain, Integer vocab) {
        String model = vocab == null ? "{ \"preset\": \"toy-xs\" }" : "{ \"preset\": \"toy-xs\", \"vocabSize\": " + vocab + " }";
        return SpecReader.read("""
                { "name": "t", "model": %s, "batch": { "sequences": 2, "seqLen": 8 },
                  "datasets": { "en": { "train": "%s", "val": "%s" }, "de": { "train": "%s" } },
                  "stages": [ { "name": "a", "steps": 10, "mix": { "en": 1.0 }, "lr": { "type": "constant", "value": 0.001 } },
                              { "name": "b", "steps": 10, "mix": { "de": 1.0 }, "lr": { "type": "constant", "value": 0.001 } } ] }
                """.formatted(model, enTrain, enVal, deTrain), "spec.json");
    }

    private Path cpt(String rel, TokenizerInfo t) throws IOException {
        Path bin = tmp.resolve(rel);
        Files.createDirectories(bin.getParent());
        try (ShardWriter w = CptTokensFormat.writer(bin, t, null)) {
            for (int i = 0; i < 5; i++) w.writeDocument(new int[] {1, 2, 3, 4, 5});
        }
        return bin;
    }

    private Path nanoGpt(String rel) throws IOException {
        Path bin = tmp.resolve(rel);
        Files.createDirectories(bin.getParent());
        return new LE().u16(50256, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 50256).writeTo(bin);
    }

    @Test
    void opensEverySplitRelativeToTheBaseDirectory() throws IOException {
        cpt("data/en/train.bin", BYTES);
        cpt("data/en/val.bin", BYTES);
        Path de = tmp.resolve("elsewhere/de.bin");
        Files.createDirectories(de.getParent());
        try (ShardWriter w = MegatronFormat.writer(de, BYTES, true)) {
            w.writeDocument(new int[] {10, 11, 12, 13, 14, 15, 16, 17, 18});
        }
        // absolute paths stay as they are
        DataSources ds = DataOpener.open(spec("data/en/train.bin", "data/en/val.bin", de.toString(), null), tmp, BYTES);
        assertThat(ds.val("de")).isNull();
        assertThat(ds.val("en")).hasSize(1);
        assertThat(ds.train("en").get(0).source().length()).isEqualTo(30);
        assertThat(ds.train("de").get(0).source().length()).isEqualTo(10);
        assertThat(((TokenShard) ds.train("de").get(0).source()).format()).isEqualTo("megatron");
        assertThat(ds.train("en").get(0).source().name()).isEqualTo(tmp.resolve("data/en/train.bin").toString());
    }

    @Test
    void filesOfDifferentTokenizersAreRejectedListingWhichUsedWhich() throws IOException {
        cpt("en/train.bin", BYTES);
        cpt("en/val.bin", BYTES);
        nanoGpt("de/train.bin");
        DataOpener.DataException e = catchThrowableOfType(DataOpener.DataException.class,
                () -> DataOpener.open(spec("en/train.bin", "en/val.bin", "de/train.bin", 60000), tmp));
        assertThat(e).isNotNull();
        assertThat(e.getMessage()).startsWith("the run's token files were made by 2 different tokenizers");
        assertThat(e.problems()).containsExactly(
                "datasets.de.train: " + tmp.resolve("de/train.bin") + ": tokenizer gpt2 (vocabulary 50257, assumed: nanogpt files "
                        + "do not record their tokenizer)",
                "datasets.en.train: " + tmp.resolve("en/train.bin") + ": tokenizer bytes (vocabulary 256)",
                "datasets.en.val: " + tmp.resolve("en/val.bin") + ": tokenizer bytes (vocabulary 256)");
    }

    @Test
    void sameIdButDifferentVocabularyIsAMismatchToo() throws IOException {
        cpt("en/train.bin", BYTES);
        cpt("en/val.bin", new TokenizerInfo("bytes", 257, 256));
        cpt("de/train.bin", BYTES);
        assertThatThrownBy(() -> DataOpener.open(spec("en/train.bin", "en/val.bin", "de/train.bin", null), tmp))
                .isInstanceOf(DataOpener.DataException.class)
                .hasMessageContaining("datasets.en.val: " + tmp.resolve("en/val.bin") + ": tokenizer bytes (vocabulary 257)");
    }

    @Test
    void aTokenizerLargerThanTheModelsVocabularyIsRejected() throws IOException {
        nanoGpt("en/train.bin");
        nanoGpt("en/val.bin");
        nanoGpt("de/train.bin");
        assertThatThrownBy(() -> DataOpener.open(spec("en/train.bin", "en/val.bin", "de/train.bin", null), tmp))
                .isInstanceOf(DataOpener.DataException.class)
                .hasMessage("the data's vocabulary is larger than the model's:\n  datasets.de.train: " + tmp.resolve("de/train.bin")
                        + ": tokenizer gpt2 (vocabulary 50257, assumed: nanogpt files do not record their tokenizer) has more ids than "
                        + "model.vocabSize 256; set model.vocabSize to at least 50257");
        // a padded model vocabulary is fine
        DataSources ds = DataOpener.open(spec("en/train.bin", "en/val.bin", "de/train.bin", 50304), tmp);
        assertThat(ds.train("de").get(0).source().length()).isEqualTo(12);
    }

    @Test
    void everyFileThatCannotBeOpenedIsReportedUnderItsSpecPath() throws IOException {
        cpt("en/train.bin", BYTES);
        Path bad = Files.write(tmp.resolve("en/val.bin"), new byte[] {1, 2, 3});
        DataOpener.DataException e = catchThrowableOfType(DataOpener.DataException.class,
                () -> DataOpener.open(spec("en/train.bin", "en/val.bin", "de/train.bin", null), tmp));
        assertThat(e).isNotNull();
        assertThat(e.problems()).hasSize(2);
        assertThat(e.problems().get(0)).startsWith("datasets.de.train (\"de/train.bin\"): " + tmp.resolve("de/train.bin")
                + ": no such file");
        assertThat(e.problems().get(1)).isEqualTo("datasets.en.val (\"en/val.bin\"): " + bad + ": size 3 bytes is odd: "
                + "not whole uint16 tokens (2 bytes each); truncated, or not a nanoGPT token file");
        assertThat(e.getMessage()).startsWith("cannot open the run's data:\n  datasets.de.train");
    }

    @Test
    void aDatasetOfDomainsOpensOneFilePerDomainWithItsWeight() throws IOException {
        for (String d : new String[] {"RedPajamaC4", "RedPajamaBook"}) {
            cpt("sp/" + d + "/train.bin", BYTES);
            cpt("sp/" + d + "/val.bin", BYTES);
        }
        RunSpec s = SpecReader.read("""
            { "name": "d", "model": { "preset": "toy-xs" }, "batch": { "sequences": 2, "seqLen": 8 },
              "datasets": { "sp": { "train": "sp/{domain}/train.bin", "val": "sp/{domain}/val.bin",
                                    "domains": { "RedPajamaC4": 2, "RedPajamaBook": 1, "RedPajamaGithub": 0 } } },
              "stages": [ { "name": "s", "steps": 10, "mix": { "sp": 1 }, "lr": { "type": "constant", "value": 0.001 } } ] }
            """, "x");
        DataSources ds = DataOpener.open(s, tmp);
        assertThat(ds.train("sp")).extracting(DataSources.Domain::name, DataSources.Domain::weight)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("RedPajamaBook", 1.0), org.assertj.core.groups.Tuple.tuple("RedPajamaC4", 2.0));
        assertThat(ds.val("sp")).hasSize(2);
        Files.delete(tmp.resolve("sp/RedPajamaBook/val.bin"));
        assertThatThrownBy(() -> DataOpener.open(s, tmp)).hasMessageContaining("datasets.sp.val{domain=RedPajamaBook}");
    }
}
