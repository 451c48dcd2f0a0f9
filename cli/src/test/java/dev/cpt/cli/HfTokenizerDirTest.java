package dev.cpt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code tokenizer.json} in an {@code hf:DIR} is the model's tokenizer: for {@code cpt prepare
 * --tokenizer hf:DIR}, for {@code cpt eval} and {@code cpt generate} on {@code hf:DIR} (where
 * {@code --tokenizer} overrides it), and for a run initialized from {@code hf:DIR}, whose data must
 * have been made by it. A run trained on data prepared with an hf: tokenizer exports it.
 */
class HfTokenizerDirTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** A word-level tokenizer of 12 ids, end of text 0 (core's test tokenizer). */
    static final String TOKENIZER = """
        { "version": "1.0", "truncation": null, "padding": null,
          "added_tokens": [ {"id": 0, "content": "<|endoftext|>", "single_word": false, "lstrip": false, "rstrip": false,
                             "normalized": false, "special": true} ],
          "normalizer": {"type": "Lowercase"}, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null, "decoder": null,
          "model": { "type": "WordLevel",
                     "vocab": {"<|endoftext|>": 0, "[UNK]": 1, "hello": 2, "world": 3, ".": 4, "the": 5, "cat": 6,
                               "<": 7, "|": 8, "endoftext": 9, "|>": 10, "sat": 11},
                     "unk_token": "[UNK]" } }
        """;

    @TempDir
    static Path tmp;
    static Path tokDir;
    static Path data;
    static Path run;
    static Path hf;

    static String spec(String name, String init, Path dataDir, int steps) {
        return """
            { "name": "%s", "seed": 4, "model": { %s }, "batch": { "sequences": 4, "seqLen": 32 },
              "datasets": { "text": { "train": "%s/train.bin", "val": "%s/val.bin" } },
              "stages": [ { "name": "train", "steps": %d, "mix": { "text": 1 },
                            "lr": { "type": "cosine", "max": 1e-2, "min": 1e-3, "warmupSteps": 2 } } ],
              "eval": { "every": %d, "batches": 1 } }
            """.formatted(name, init, dataDir, dataDir, steps, steps);
    }

    /** {@code n} documents of the tokenizer's words, 105 different ones, separated by "%". */
    static String documents(int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append("hello ".repeat(i % 7 + 1)).append("the cat sat . ".repeat(i % 5 + 1)).append("world . ".repeat(i % 3 + 1))
             .append("the cat sat . hello world .\n%\n");
        }
        return b.toString();
    }

    @BeforeAll
    static void prepareTrainAndExport() throws IOException {
        tokDir = Files.createDirectories(tmp.resolve("tok"));
        Files.writeString(tokDir.resolve("tokenizer.json"), TOKENIZER);
        Path text = Files.writeString(tmp.resolve("text.txt"), documents(400));
        data = tmp.resolve("data");
        CliRun p = CliRun.run("prepare", text.toString(), "--out", data.toString(), "--separator", "%", "--val", "0.1",
                "--tokenizer", "hf:" + tokDir);
        assertThat(p.code()).as(p.err()).isZero();
        run = tmp.resolve("run");
        Path specFile = Files.writeString(tmp.resolve("run.json"), spec("words", "\"preset\": \"toy-xs\", \"vocabSize\": 16", data, 20));
        CliRun t = CliRun.run("train", specFile.toString(), "--out", run.toString(), "--threads", "2");
        assertThat(t.code()).as(t.err()).isZero();
        hf = tmp.resolve("hf");
        CliRun e = CliRun.run("export", run.toString(), "--format", "hf", "--out", hf.toString());
        assertThat(e.code()).as(e.err()).isZero();
        assertThat(e.out()).contains("with " + tokDir.resolve("tokenizer.json").toAbsolutePath().normalize());
    }

    @Test
    void anHfDirectorysTokenizerJsonIsTheModelsForEvalAndGenerateAndTheOverrideWins() throws IOException {
        assertThat(Files.readString(hf.resolve("tokenizer.json"))).isEqualTo(TOKENIZER);
        Path task = Files.writeString(tmp.resolve("lambada.jsonl"), "{\"text\": \"hello the cat sat\"}\n{\"text\": \"the cat sat hello world\"}\n");
        Path fromRun = tmp.resolve("eval-run");
        Path fromHf = tmp.resolve("eval-hf");
        CliRun a = CliRun.run("eval", run.toString(), "--task", "lambada=" + task, "--threads", "2", "--out", fromRun.toString());
        assertThat(a.code()).as(a.err()).isZero();
        CliRun b = CliRun.run("eval", "hf:" + hf, "--task", "lambada=" + task, "--threads", "2", "--out", fromHf.toString());
        assertThat(b.code()).as(b.err()).isZero();
        JsonNode runResults = JSON.readTree(fromRun.resolve("results.json").toFile());
        JsonNode hfResults = JSON.readTree(fromHf.resolve("results.json").toFile());
        assertThat(hfResults.at("/config/tokenizer").asText()).isEqualTo("hf:" + hf.resolve("tokenizer.json").toAbsolutePath().normalize());
        assertThat(hfResults.get("results")).as("the hf: copy with its tokenizer.json scores as the run does").isEqualTo(runResults.get("results"));

        // --tokenizer overrides the directory's: with bytes the same text is other tokens, and so other scores.
        Path bytes = tmp.resolve("eval-bytes");
        CliRun c = CliRun.run("eval", "hf:" + hf, "--task", "lambada=" + task, "--tokenizer", "bytes", "--out", bytes.toString());
        assertThat(c.code()).as("the model's 16 ids cannot hold bytes' 256: refused").isEqualTo(1);
        assertThat(c.err()).contains("the tokenizer bytes has 256 ids, more than the model's vocabulary of 16");

        CliRun g = CliRun.run("generate", "hf:" + hf, "--prompt", "hello the", "--temperature", "0", "--max-tokens", "4");
        CliRun gRun = CliRun.run("generate", run.toString(), "--prompt", "hello the", "--temperature", "0", "--max-tokens", "4");
        assertThat(g.code()).as(g.err()).isZero();
        assertThat(g.out()).isEqualTo(gRun.out());
    }

    @Test
    void aRunFromAnHfInitTrainsOnDataOfItsTokenizerAndRefusesOtherData() throws IOException {
        // cpt prepare --tokenizer hf:DIR reads the model directory's tokenizer.json.
        Path text = Files.writeString(tmp.resolve("more.txt"), documents(300));
        Path hfData = tmp.resolve("hf-data");
        CliRun p = CliRun.run("prepare", text.toString(), "--out", hfData.toString(), "--separator", "%", "--val", "0.1",
                "--tokenizer", "hf:" + hf);
        assertThat(p.code()).as(p.err()).isZero();
        Path ok = Files.writeString(tmp.resolve("init-ok.json"), spec("from-hf", "\"init\": \"hf:" + hf + "\"", hfData, 4));
        CliRun t = CliRun.run("train", ok.toString(), "--out", tmp.resolve("from-hf").toString(), "--threads", "2");
        assertThat(t.code()).as(t.err()).isZero();
        // With its data gone, cpt eval on the run finds the tokenizer in its init's directory.
        TrainAndSweepCommandTest.deleteTree(hfData);
        Path evalOut = tmp.resolve("eval-from-hf");
        CliRun e = CliRun.run("eval", tmp.resolve("from-hf").toString(), "--task", "lambada="
                + Files.writeString(tmp.resolve("l2.jsonl"), "{\"text\": \"the cat sat\"}\n"), "--out", evalOut.toString());
        assertThat(e.code()).as(e.err()).isZero();
        assertThat(JSON.readTree(evalOut.resolve("results.json").toFile()).at("/config/tokenizer").asText())
                .isEqualTo("hf:" + hf.resolve("tokenizer.json").toAbsolutePath().normalize());
        // The data of the first run: another path, the same bytes of tokenizer.json: the same tokenizer.
        Path same = Files.writeString(tmp.resolve("init-same.json"), spec("same", "\"init\": \"hf:" + hf + "\"", data, 4));
        CliRun s = CliRun.run("train", same.toString(), "--out", tmp.resolve("same").toString(), "--threads", "2");
        assertThat(s.code()).as(s.err()).isZero();

        // Bytes data into the word-level model: vocabulary 256 against 12, end of text 0 both.
        Path bytesData = tmp.resolve("bytes-data");
        CliRun pb = CliRun.run("prepare", text.toString(), "--out", bytesData.toString(), "--separator", "%", "--val", "0.1");
        assertThat(pb.code()).as(pb.err()).isZero();
        Path bad = Files.writeString(tmp.resolve("init-bad.json"), spec("bad", "\"init\": \"hf:" + hf + "\"", bytesData, 4));
        CliRun b = CliRun.run("train", bad.toString(), "--out", tmp.resolve("bad").toString());
        assertThat(b.code()).isEqualTo(1);
        assertThat(b.err()).contains("the run's data was not made by the tokenizer of its model.init")
                .contains("model.init: hf:" + hf + "'s tokenizer").contains("has vocabulary 12")
                .contains("prepare the data with cpt prepare --tokenizer hf:" + hf);
        assertThat(tmp.resolve("bad")).doesNotExist();
    }

    @Test
    void withoutATokenizerJsonATokenizerMustBeGiven() throws IOException {
        Path bare = Files.createDirectories(tmp.resolve("bare"));
        for (String f : new String[] {"config.json", "model.safetensors"}) Files.copy(hf.resolve(f), bare.resolve(f));
        CliRun r = CliRun.run("eval", "hf:" + bare, "--task", "lambada=" + Files.writeString(tmp.resolve("l.jsonl"), "{\"text\": \"the cat\"}\n"),
                "--out", tmp.resolve("bare-eval").toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("hf:" + bare + " has no tokenizer.json; give --tokenizer");
    }
}
