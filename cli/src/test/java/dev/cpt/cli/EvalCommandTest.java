package dev.cpt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cpt eval} on a run trained here, against {@code src/test/python/eval_reference.py}: an
 * independent scorer on PyTorch that builds the prompts, splits the tokens and sums the
 * continuation log-probabilities itself from the harness's rules, one request at a time.
 */
class EvalCommandTest {
    static final String PYTHON = "/usr/bin/python3";
    static final double TOLERANCE = 1e-4;
    static final List<String> TASKS = List.of("hellaswag", "arc_easy", "arc_challenge", "openbookqa", "piqa", "mmlu",
            "truthfulqa_mc1", "truthfulqa_mc2", "lambada");
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    static Path run;

    @BeforeAll
    static void trainAToyModel() throws IOException {
        Path data = tmp.resolve("builtin");
        CliRun p = CliRun.run("prepare", "--builtin", data.toString(), "--synthetic", "--max-mb", "1");
        assertThat(p.code()).as(p.err()).isZero();
        Path spec = Files.writeString(tmp.resolve("run.json"), """
            { "name": "evaluated", "seed": 5, "model": { "preset": "toy-xs", "contextLength": 256 }, "batch": { "sequences": 8, "seqLen": 64 },
              "datasets": { "en": { "train": "%s/en/train.bin", "val": "%s/en/val.bin" } },
              "stages": [ { "name": "pretrain", "steps": 60, "mix": { "en": 1 },
                            "lr": { "type": "cosine", "max": 1e-2, "min": 1e-3, "warmupSteps": 5 } } ],
              "eval": { "every": 60, "batches": 1 } }
            """.formatted(data, data));
        run = tmp.resolve("run");
        CliRun t = CliRun.run("train", spec.toString(), "--out", run.toString(), "--threads", "2");
        assertThat(t.code()).as(t.err()).isZero();
    }

    static Path items(String task) {
        try {
            return Path.of(EvalCommandTest.class.getResource("/eval/" + task + ".jsonl").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<String> taskArgs() {
        List<String> args = new ArrayList<>();
        for (String t : TASKS) {
            args.add("--task");
            args.add(t + "=" + items(t));
        }
        return args;
    }

    @Test
    void everyTasksLogLikelihoodsAndMetricsMatchAnIndependentTorchScorer() throws Exception {
        boolean ci = "1".equals(System.getenv("CPT_CI"));
        boolean torch = Files.isExecutable(Path.of(PYTHON)) && exec(List.of(PYTHON, "-c", "import torch")).exit == 0;
        if (ci && !torch) throw new AssertionError("CPT_CI=1 and " + PYTHON + " cannot import torch (apt-get install -y python3-torch)");
        org.junit.jupiter.api.Assumptions.assumeTrue(torch, PYTHON + " cannot import torch: install Debian's python3-torch");

        Path out = tmp.resolve("eval");
        List<String> args = new ArrayList<>(List.of("eval", run.toString(), "--batch", "3", "--log-samples", "--threads", "2",
                "--out", out.toString()));
        args.addAll(taskArgs());
        CliRun r = CliRun.run(args.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("hellaswag: 3 items, acc ").contains("lambada: 4 items, perplexity ");
        JsonNode results = JSON.readTree(out.resolve("results.json").toFile());
        assertThat(results.at("/config/tokenizer").asText()).as("the tokenizer of the run's data").isEqualTo("bytes");

        Path checkpoint;
        try (Stream<Path> s = Files.list(run.resolve("checkpoints"))) {
            checkpoint = s.filter(p -> p.getFileName().toString().startsWith("step-")).sorted().toList().getLast();
        }
        Path refOut = tmp.resolve("reference.json");
        List<String> cmd = new ArrayList<>(List.of(PYTHON, script().toString(), "--weights",
                checkpoint.resolve("engine/model.safetensors").toString(), "--out", refOut.toString()));
        for (String t : TASKS) {
            cmd.add("--task");
            cmd.add(t + "=" + items(t));
        }
        Exec ref = exec(cmd);
        assertThat(ref.exit).as("eval_reference.py failed:\n%s", ref.output).isZero();
        JsonNode reference = JSON.readTree(refOut.toFile()).get("tasks");

        List<String> bad = new ArrayList<>();
        double worst = 0;
        int requests = 0;
        for (String task : TASKS) {
            JsonNode mine = results.at("/results/" + task);
            JsonNode theirs = reference.at("/" + task + "/results");
            assertThat(mine.isObject()).as("results.%s", task).isTrue();
            theirs.fieldNames().forEachRemaining(k -> {
                JsonNode a = mine.get(k);
                JsonNode b = theirs.get(k);
                if (a == null) bad.add(task + " " + k + ": missing");
                else if (b.isTextual() ? !a.asText().equals(b.asText()) : !close(a.asDouble(), b.asDouble())) {
                    bad.add(task + " " + k + ": " + a + " vs torch " + b);
                }
            });
            List<String> samples = Files.readAllLines(out.resolve("samples_" + task + ".jsonl"), StandardCharsets.UTF_8);
            JsonNode items = reference.at("/" + task + "/items");
            assertThat(samples).as("samples of %s", task).hasSize(items.size());
            for (int i = 0; i < samples.size(); i++) {
                JsonNode s = JSON.readTree(samples.get(i));
                JsonNode it = items.get(i);
                assertThat(s.get("doc_id").asInt()).isEqualTo(i);
                JsonNode resps = s.get("filtered_resps");
                assertThat(resps.size()).as("%s item %d: responses", task, i).isEqualTo(it.get("lls").size());
                for (int c = 0; c < resps.size(); c++) {
                    double a = resps.get(c).get(0).asDouble();
                    double b = it.get("lls").get(c).asDouble();
                    worst = Math.max(worst, Math.abs(a - b) / Math.max(1, Math.abs(b)));
                    requests++;
                    if (!close(a, b)) bad.add(task + " item " + i + " choice " + c + ": log-likelihood " + a + " vs torch " + b);
                    if (resps.get(c).get(1).asBoolean() != it.get("greedy").get(c).asBoolean()) {
                        bad.add(task + " item " + i + " choice " + c + ": is_greedy differs");
                    }
                }
                for (String m : List.of("acc", "acc_norm", "perplexity")) {
                    if (it.has(m) != s.has(m)) bad.add(task + " item " + i + ": " + m + " present in only one");
                    else if (it.has(m) && !close(s.get(m).asDouble(), it.get(m).asDouble())) {
                        bad.add(task + " item " + i + ": " + m + " " + s.get(m) + " vs torch " + it.get(m));
                    }
                }
            }
        }
        System.out.printf("cpt eval against torch: %d requests, worst log-likelihood difference %.3g (relative above 1)%n", requests, worst);
        assertThat(bad).as("where cpt eval and the torch reference differ").isEmpty();
        // The model was trained: its log-likelihoods are not the uniform −ln 256 per byte of a blank model.
        assertThat(results.at("/results/lambada/perplexity,none").asDouble()).isGreaterThan(1.0);
    }

    /** Within 1e-4, relative for magnitudes above 1. */
    static boolean close(double a, double b) {
        return Math.abs(a - b) <= TOLERANCE * Math.max(1, Math.abs(b));
    }

    @Test
    void aMalformedLineIsNamedByFileAndLine() throws IOException {
        Path bad = Files.writeString(tmp.resolve("bad_arc.jsonl"), """
            {"question": "Ok?", "choices": {"text": ["yes", "no"], "label": ["A", "B"]}, "answerKey": "A"}

            {"question": "Which?", "choices": {"text": ["x", "y"], "label": ["A", "B"]}, "answerKey": "C"}
            """);
        CliRun r = CliRun.run("eval", run.toString(), "--task", "arc_easy=" + bad, "--out", tmp.resolve("bad-out").toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains(bad + ":3: not a arc_easy item: answerKey \"C\" is not one of choices.label [A, B]");
        assertThat(tmp.resolve("bad-out/results.json")).doesNotExist();

        Path notJson = Files.writeString(tmp.resolve("bad_piqa.jsonl"), "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\", \"label\": 0}\n{oops\n");
        CliRun j = CliRun.run("eval", run.toString(), "--task", "piqa=" + notJson, "--out", tmp.resolve("bad-out").toString());
        assertThat(j.code()).isEqualTo(1);
        assertThat(j.err()).contains(notJson + ":2: not valid JSON");
    }

    @Test
    void aCheckpointDirectoryLimitAndWrongArgumentsAreHandled() throws IOException {
        Path checkpoint;
        try (Stream<Path> s = Files.list(run.resolve("checkpoints"))) {
            checkpoint = s.filter(p -> p.getFileName().toString().startsWith("step-")).sorted().toList().getFirst();
        }
        Path out = tmp.resolve("limited");
        CliRun r = CliRun.run("eval", checkpoint.toString(), "--task", "arc_easy=" + items("arc_easy"), "--limit", "2",
                "--tokenizer", "bytes", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode results = JSON.readTree(out.resolve("results.json").toFile());
        assertThat(results.at("/n-samples/arc_easy/original").asInt()).isEqualTo(3);
        assertThat(results.at("/n-samples/arc_easy/effective").asInt()).isEqualTo(2);
        assertThat(results.at("/results/arc_easy/acc_stderr,none").isNumber()).isTrue();
        assertThat(results.at("/higher_is_better/arc_easy/acc").asBoolean()).isTrue();
        assertThat(out.resolve("samples_arc_easy.jsonl")).doesNotExist();

        CliRun unknown = CliRun.run("eval", run.toString(), "--task", "squad=" + items("arc_easy"), "--out", out.toString());
        assertThat(unknown.code()).isEqualTo(1);
        assertThat(unknown.err()).contains("unknown task \"squad\"").contains("hellaswag");
        CliRun wrongTokenizer = CliRun.run("eval", run.toString(), "--task", "arc_easy=" + items("arc_easy"), "--tokenizer", "gpt2",
                "--out", out.toString());
        assertThat(wrongTokenizer.code()).isEqualTo(1);
        assertThat(wrongTokenizer.err()).contains("--tokenizer gpt2").contains("records bytes");
        CliRun notARun = CliRun.run("eval", tmp.toString(), "--task", "arc_easy=" + items("arc_easy"), "--out", out.toString());
        assertThat(notARun.code()).isEqualTo(1);
        assertThat(notARun.err()).contains("is neither a run directory");
    }

    static Path script() {
        return Path.of(System.getProperty("basedir", "."), "src/test/python/eval_reference.py").toAbsolutePath();
    }

    record Exec(int exit, String output) {}

    static Exec exec(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            return new Exec(-1, "timed out");
        }
        return new Exec(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
