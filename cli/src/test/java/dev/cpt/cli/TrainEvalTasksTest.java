package dev.cpt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code eval.tasks} in a run spec: the benchmarks scored at the start and at every stage end land
 * in summary.json and the report, equal to what {@code cpt eval} writes for the stage-end
 * checkpoints; a resumed run recovers the scores of the stage ends before its checkpoint; bad task
 * entries are named by their JSON path before anything runs.
 */
class TrainEvalTasksTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> TASKS = List.of("hellaswag", "arc_easy", "lambada", "truthfulqa_mc2");

    @TempDir
    static Path tmp;
    static Path data;
    static Path run;

    static String spec(String name, String tasks) {
        return spec(name, 256, tasks);
    }

    static String spec(String name, int context, String tasks) {
        return """
            { "name": "%s", "seed": 3, "model": { "preset": "toy-xs", "contextLength": %s }, "batch": { "sequences": 4, "seqLen": 32 },
              "datasets": { "en": { "train": "%s/en/train.bin", "val": "%s/en/val.bin" },
                            "de": { "train": "%s/de/train.bin", "val": "%s/de/val.bin" } },
              "stages": [
                { "name": "pretrain", "steps": 10, "mix": { "en": 1 }, "lr": { "type": "cosine", "max": 3e-3, "min": 3e-4, "warmupSteps": 2 } },
                { "name": "continue", "steps": 10, "mix": { "de": 1 }, "replay": { "fraction": 0.25, "from": { "en": 1 } },
                  "resetOptimizer": true, "lr": { "type": "cosine", "max": 3e-3, "min": 3e-4, "warmupSteps": 2 } } ],
              "eval": { "every": 5, "batches": 1, "tasks": %s }, "finalLoss": { "lastSteps": 5, "every": 5 },
              "checkpoint": { "every": 5, "keep": 10 } }
            """.formatted(name, context, data, data, data, data, tasks);
    }

    static String tasksJson(List<String> names) {
        List<String> entries = new ArrayList<>();
        for (String t : names) entries.add("\"" + t + "\": \"" + EvalCommandTest.items(t) + "\"");
        return "{ " + String.join(", ", entries) + " }";
    }

    @BeforeAll
    static void trainWithTasks() throws IOException {
        data = tmp.resolve("builtin");
        CliRun p = CliRun.run("prepare", "--builtin", data.toString(), "--synthetic", "--max-mb", "1");
        assertThat(p.code()).as(p.err()).isZero();
        Path specFile = Files.writeString(tmp.resolve("tasks.json"), spec("tasks", tasksJson(TASKS)));
        run = tmp.resolve("run");
        CliRun t = CliRun.run("train", specFile.toString(), "--out", run.toString(), "--threads", "2");
        assertThat(t.code()).as(t.err()).isZero();
        assertThat(t.out()).contains("hellaswag: acc ").contains("(start ");
    }

    @Test
    void stageEndScoresInTheSummaryAreWhatCptEvalGivesOnTheStageEndCheckpoints() throws IOException {
        JsonNode summary = JSON.readTree(run.resolve("summary.json").toFile());
        JsonNode tasks = summary.get("tasks");
        assertThat(tasks).as("summary.json has tasks").isNotNull();
        List<String> names = new ArrayList<>();
        tasks.fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactlyElementsOf(TASKS);

        int compared = 0;
        for (var stage : Map.of("pretrain", 10, "continue", 20).entrySet()) {
            Path ckpt = run.resolve("checkpoints").resolve(String.format("step-%08d", stage.getValue()));
            Path out = tmp.resolve("eval-" + stage.getKey());
            List<String> args = new ArrayList<>(List.of("eval", ckpt.toString(), "--threads", "2", "--out", out.toString()));
            args.addAll(EvalCommandTest.taskArgs(TASKS));
            CliRun r = CliRun.run(args.toArray(String[]::new));
            assertThat(r.code()).as(r.err()).isZero();
            JsonNode results = JSON.readTree(out.resolve("results.json").toFile()).get("results");
            for (String t : TASKS) {
                JsonNode inRun = tasks.at("/" + t + "/stageEnd/" + stage.getKey());
                JsonNode byEval = results.get(t);
                List<String> keys = new ArrayList<>();
                byEval.fieldNames().forEachRemaining(k -> {
                    if (byEval.get(k).isNumber()) keys.add(k);
                });
                assertThat(keys).isNotEmpty();
                for (String k : keys) {
                    assertThat(inRun.get(k)).as("%s %s at the end of %s", t, k, stage.getKey()).isNotNull();
                    assertThat(inRun.get(k).asDouble()).as("%s %s at the end of %s", t, k, stage.getKey())
                            .isEqualTo(byEval.get(k).asDouble());
                    compared++;
                }
                List<String> runKeys = new ArrayList<>();
                inRun.fieldNames().forEachRemaining(runKeys::add);
                assertThat(runKeys).containsExactlyInAnyOrderElementsOf(keys);
            }
        }
        assertThat(compared).isGreaterThan(10);
        // The end of the run is the last stage's end; the changes are end minus start / minus the first stage's end.
        JsonNode hs = tasks.get("hellaswag");
        assertThat(hs.get("end")).isEqualTo(hs.at("/stageEnd/continue"));
        assertThat(hs.at("/start/acc,none").isNumber()).isTrue();
        assertThat(hs.at("/changeFromStart/acc_norm,none").asDouble())
                .isEqualTo(hs.at("/end/acc_norm,none").asDouble() - hs.at("/start/acc_norm,none").asDouble());
        assertThat(hs.at("/changeFromFirstStageEnd/acc,none").asDouble())
                .isEqualTo(hs.at("/end/acc,none").asDouble() - hs.at("/stageEnd/pretrain/acc,none").asDouble());
        assertThat(hs.get("changeFromStart").has("acc_stderr,none")).isFalse();
        // lambada's perplexity moves as training goes on: the scores are of each moment's model, not one copied.
        assertThat(tasks.at("/lambada/start/perplexity,none").asDouble())
                .isNotEqualTo(tasks.at("/lambada/end/perplexity,none").asDouble());

        String report = Files.readString(run.resolve("report.md"));
        assertThat(report).contains("| benchmark | metric | start | end of pretrain | end of continue | change from start |"
                + " change from end of pretrain |").contains("| hellaswag | acc_norm | ").contains("| lambada | perplexity | ");
    }

    @Test
    void aResumedRunRecoversEarlierStageEndScoresAndWritesTheSameSummary() throws IOException {
        // Resume from step 15: the scores at step 0 and at the end of "pretrain" (step 10) come from the records.
        Path resumed = tmp.resolve("resumed");
        copyTree(run, resumed);
        deleteTree(resumed.resolve("checkpoints").resolve(String.format("step-%08d", 20)));
        Files.delete(resumed.resolve("summary.json"));
        Path specFile = tmp.resolve("tasks.json");
        CliRun r = CliRun.run("train", specFile.toString(), "--out", resumed.toString(), "--threads", "2", "--resume");
        assertThat(r.code()).as(r.err()).isZero();

        ObjectNode straight = (ObjectNode) JSON.readTree(run.resolve("summary.json").toFile());
        ObjectNode again = (ObjectNode) JSON.readTree(resumed.resolve("summary.json").toFile());
        straight.remove("wallSeconds");
        again.remove("wallSeconds");
        assertThat(again).isEqualTo(straight);
        assertThat(again.at("/tasks/arc_easy/stageEnd/pretrain").isObject()).isTrue();
        assertThat(withoutTimings(resumed)).isEqualTo(withoutTimings(run));
    }

    @Test
    void theTorchEngineScoresItsRunsStageEndsAsCptEvalDoes() throws IOException {
        boolean ci = "1".equals(System.getenv("CPT_CI"));
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.cpt.ffi.NativeLibrary.present() || ci,
                "libcpt_torch.so is not built (native/build.sh needs libtorch-dev)");
        Path specFile = Files.writeString(tmp.resolve("torch-tasks.json"), spec("torch-tasks", tasksJson(List.of("hellaswag", "lambada"))));
        Path torchRun = tmp.resolve("torch-run");
        CliRun t = CliRun.run("train", specFile.toString(), "--out", torchRun.toString(), "--engine", "torch", "--threads", "1");
        assertThat(t.code()).as(t.err()).isZero();
        JsonNode tasks = JSON.readTree(torchRun.resolve("summary.json").toFile()).get("tasks");
        Path out = tmp.resolve("torch-eval-pretrain");
        List<String> args = new ArrayList<>(List.of("eval", torchRun.resolve("checkpoints/step-00000010").toString(), "--engine", "torch",
                "--threads", "1", "--out", out.toString()));
        args.addAll(EvalCommandTest.taskArgs(List.of("hellaswag", "lambada")));
        CliRun r = CliRun.run(args.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode results = JSON.readTree(out.resolve("results.json").toFile()).get("results");
        for (String task : List.of("hellaswag", "lambada")) {
            for (String k : List.of("acc,none", task.equals("lambada") ? "perplexity,none" : "acc_norm,none")) {
                assertThat(tasks.at("/" + task + "/stageEnd/pretrain").get(k).asDouble()).as("%s %s, torch engine", task, k)
                        .isEqualTo(results.get(task).get(k).asDouble());
            }
        }
        assertThat(tasks.at("/lambada/start/perplexity,none").asDouble()).isNotEqualTo(tasks.at("/lambada/end/perplexity,none").asDouble());
    }

    @Test
    void badTaskEntriesAreNamedByTheirPathBeforeAnythingRuns() throws IOException {
        Path bad = Files.writeString(tmp.resolve("bad.jsonl"), "{\"question\": \"x\"}\n");
        String tasks = "{ \"hellaswg\": \"" + EvalCommandTest.items("hellaswag") + "\", \"arc_easy\": \"" + tmp.resolve("nope.jsonl")
                + "\", \"piqa\": \"" + bad + "\" }";
        Path specFile = Files.writeString(tmp.resolve("bad.json"), spec("bad", tasks));
        CliRun r = CliRun.run("train", specFile.toString(), "--out", tmp.resolve("bad").toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("eval.tasks.hellaswg: unknown task \"hellaswg\"; known: hellaswag")
                .contains("eval.tasks.arc_easy: " + tmp.resolve("nope.jsonl") + ": no such file")
                .contains("eval.tasks.piqa: " + bad + ":1: not a piqa item");
        assertThat(tmp.resolve("bad")).doesNotExist();

        // A generative task needs room for max_gen_toks 256 in the context.
        Path gen = Files.writeString(tmp.resolve("gen.json"), spec("gen", 64, tasksJson(List.of("triviaqa"))));
        CliRun g = CliRun.run("train", gen.toString(), "--out", tmp.resolve("gen").toString());
        assertThat(g.code()).isEqualTo(1);
        assertThat(g.err()).contains("eval.tasks: a generative task").contains("context of 64 tokens");
        assertThat(tmp.resolve("gen")).doesNotExist();
    }

    static List<JsonNode> withoutTimings(Path runDir) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(runDir.resolve("metrics.jsonl"))) {
            ObjectNode n = (ObjectNode) JSON.readTree(line);
            n.remove("tokensPerSecond");
            out.add(n);
        }
        return out;
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (var files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path target = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) Files.createDirectories(target);
                else Files.copy(f, target);
            }
        }
    }

    static void deleteTree(Path dir) throws IOException {
        TrainAndSweepCommandTest.deleteTree(dir);
    }
}
