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
 * {@code cpt eval} on a run trained here and on an {@code hf:} GPT-2 checkpoint, against
 * {@code src/test/python/eval_reference.py}: an independent scorer on PyTorch that builds the
 * prompts (few-shot ones too), splits the tokens and sums the continuation log-probabilities
 * itself from the harness's rules, one request at a time, and generates greedily by full forwards
 * for the generative tasks.
 */
class EvalCommandTest {
    static final String PYTHON = "/usr/bin/python3";
    static final double TOLERANCE = 1e-4;
    static final List<String> TASKS = List.of("hellaswag", "arc_easy", "arc_challenge", "openbookqa", "piqa", "mmlu",
            "truthfulqa_mc1", "truthfulqa_mc2", "lambada", "triviaqa", "nq_open");
    static final List<String> GENERATIVE = List.of("triviaqa", "nq_open");
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

    static List<String> taskArgs(List<String> tasks) {
        List<String> args = new ArrayList<>();
        for (String t : tasks) {
            args.add("--task");
            args.add(t + "=" + items(t));
        }
        return args;
    }

    /** Whether eval_reference.py can run; under CPT_CI it must. */
    static boolean torch() throws Exception {
        boolean ci = "1".equals(System.getenv("CPT_CI"));
        boolean torch = Files.isExecutable(Path.of(PYTHON)) && exec(List.of(PYTHON, "-c", "import torch")).exit == 0;
        if (ci && !torch) throw new AssertionError("CPT_CI=1 and " + PYTHON + " cannot import torch (apt-get install -y python3-torch)");
        return torch;
    }

    static Path latestCheckpoint() throws IOException {
        try (Stream<Path> s = Files.list(run.resolve("checkpoints"))) {
            return s.filter(p -> p.getFileName().toString().startsWith("step-")).sorted().toList().getLast();
        }
    }

    /** eval_reference.py on {@code model} (--weights FILE or --hf DIR) with {@code extra} arguments; its "tasks". */
    static JsonNode reference(List<String> model, List<String> tasks, List<String> extra, String name) throws Exception {
        Path refOut = tmp.resolve(name + ".json");
        List<String> cmd = new ArrayList<>(List.of(PYTHON, script().toString()));
        cmd.addAll(model);
        cmd.addAll(List.of("--out", refOut.toString()));
        cmd.addAll(taskArgs(tasks));
        cmd.addAll(extra);
        Exec ref = exec(cmd);
        assertThat(ref.exit).as("eval_reference.py failed:\n%s", ref.output).isZero();
        return JSON.readTree(refOut.toFile()).get("tasks");
    }

    @Test
    void everyTasksLogLikelihoodsGenerationsAndMetricsMatchAnIndependentTorchScorer() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(torch(), PYTHON + " cannot import torch: install Debian's python3-torch");

        Path out = tmp.resolve("eval");
        List<String> args = new ArrayList<>(List.of("eval", run.toString(), "--batch", "3", "--log-samples", "--threads", "2",
                "--max-gen-toks", "48", "--out", out.toString()));
        args.addAll(taskArgs(TASKS));
        CliRun r = CliRun.run(args.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("hellaswag: 3 items, acc ").contains("lambada: 4 items, perplexity ")
                .contains("triviaqa: 3 items, exact_match ");
        JsonNode results = JSON.readTree(out.resolve("results.json").toFile());
        assertThat(results.at("/config/tokenizer").asText()).as("the tokenizer of the run's data").isEqualTo("bytes");
        assertThat(results.at("/config/max_gen_toks").asInt()).isEqualTo(48);
        assertThat(results.at("/configs/nq_open/output_type").asText()).isEqualTo("generate_until");

        JsonNode reference = reference(List.of("--weights", latestCheckpoint().resolve("engine/model.safetensors").toString()),
                TASKS, List.of("--max-gen-toks", "48"), "reference");
        List<String> bad = new ArrayList<>();
        Compared c = compare(results, out, reference, TASKS, bad);
        System.out.printf("cpt eval against torch: %d requests, worst log-likelihood difference %.3g (relative above 1); "
                + "%d greedy generations, %d of them equal%n", c.requests, c.worst, c.generations, c.sameGenerations);
        assertThat(bad).as("where cpt eval and the torch reference differ").isEmpty();
        // The model was trained: its log-likelihoods are not the uniform −ln 256 per byte of a blank model.
        assertThat(results.at("/results/lambada/perplexity,none").asDouble()).isGreaterThan(1.0);

        // 60 steps of synthetic text: after "Answer:" this model draws spaces to --max-gen-toks (no stop string, nothing
        // to match); qaModelAnswersAreCutAtStopStringsAndMatchedAfterNormalisation has one that answers.
        assertThat(Files.readAllLines(out.resolve("samples_triviaqa.jsonl")).getFirst()).contains("\"exact_match\":0.0");
    }

    /** What qaModelAnswersAreCutAtStopStringsAndMatchedAfterNormalisation trains on: answers followed by stop strings. */
    static final String QA = "Question: What do cats drink?\nAnswer: Milk. They like it.\n"
            + "Question: Which town has a tower?\nAnswer: Blackpool, England\n"
            + "Answer these questions:\n\nQ: who wrote the iliad?\nA: the Homer\nQ: next\n";

    @Test
    void qaModelAnswersAreCutAtStopStringsAndMatchedAfterNormalisation() throws Exception {
        // A toy model that has learned three answers: its greedy generations run into ".", "," and "\n".
        Path text = Files.writeString(tmp.resolve("qa.txt"), (QA.repeat(6) + "%").repeat(30));
        Path data = tmp.resolve("qa-data");
        CliRun p = CliRun.run("prepare", text.toString(), "--out", data.toString(), "--separator", "%", "--val", "0");
        assertThat(p.code()).as(p.err()).isZero();
        Path spec = Files.writeString(tmp.resolve("qa-run.json"), """
            { "name": "qa", "seed": 3, "model": { "preset": "toy-xs", "contextLength": 96 }, "batch": { "sequences": 4, "seqLen": 96 },
              "datasets": { "qa": { "train": "%s/train.bin", "val": "%s/train.bin" } },
              "stages": [ { "name": "train", "steps": 800, "mix": { "qa": 1 },
                            "lr": { "type": "cosine", "max": 1e-2, "min": 1e-3, "warmupSteps": 5 } } ],
              "eval": { "every": 800, "batches": 1 } }
            """.formatted(data, data));
        Path qaRun = tmp.resolve("qa-run");
        CliRun t = CliRun.run("train", spec.toString(), "--out", qaRun.toString(), "--threads", "2");
        assertThat(t.code()).as(t.err()).isZero();

        Path tq = Files.writeString(tmp.resolve("qa_triviaqa.jsonl"), """
            {"question": "What do cats drink", "answer": {"aliases": ["MILK!"]}}
            {"question": "Which town has a tower", "answer": {"aliases": ["Blackpool, England", "blackpool"]}}
            {"question": "What do cats drink", "answer": {"aliases": ["water"]}}
            """);
        Path nq = Files.writeString(tmp.resolve("qa_nq_open.jsonl"), """
            {"question": "who wrote the iliad", "answer": ["Homer"]}
            """);
        Path out = tmp.resolve("qa-eval");
        CliRun r = CliRun.run("eval", qaRun.toString(), "--task", "triviaqa=" + tq, "--task", "nq_open=" + nq, "--max-gen-toks", "24",
                "--log-samples", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        List<JsonNode> samples = new ArrayList<>();
        for (String task : GENERATIVE) {
            for (String l : Files.readAllLines(out.resolve("samples_" + task + ".jsonl"))) samples.add(JSON.readTree(l));
        }
        // Cut at ".", case and punctuation ignored; cut at ",", the second alias; the right text but not an alias; cut at
        // "\n", and nq_open drops the article.
        assertThat(samples).extracting(s -> s.at("/resps/0/0").asText()).containsExactly(" Milk", " Blackpool", " Milk", " the Homer");
        assertThat(samples).extracting(s -> s.at("/filtered_resps/0").asText()).containsExactly("Milk", "Blackpool", "Milk", "the Homer");
        assertThat(samples).extracting(s -> s.get("exact_match").asDouble()).containsExactly(1.0, 1.0, 0.0, 1.0);
        JsonNode results = JSON.readTree(out.resolve("results.json").toFile());
        assertThat(results.at("/results/triviaqa/exact_match,remove_whitespace").asDouble()).isEqualTo(2.0 / 3);
        assertThat(results.at("/results/nq_open/exact_match_stderr,remove_whitespace").asText()).isEqualTo("N/A");

        if (!torch()) return;
        Path checkpoint;
        try (Stream<Path> s = Files.list(qaRun.resolve("checkpoints"))) {
            checkpoint = s.filter(c -> c.getFileName().toString().startsWith("step-")).sorted().toList().getLast();
        }
        Path refOut = tmp.resolve("reference-qa.json");
        Exec ref = exec(List.of(PYTHON, script().toString(), "--weights", checkpoint.resolve("engine/model.safetensors").toString(),
                "--out", refOut.toString(), "--task", "triviaqa=" + tq, "--task", "nq_open=" + nq, "--max-gen-toks", "24"));
        assertThat(ref.exit).as("eval_reference.py failed:\n%s", ref.output).isZero();
        List<String> bad = new ArrayList<>();
        compare(results, out, JSON.readTree(refOut.toFile()).get("tasks"), GENERATIVE, bad);
        assertThat(bad).as("where cpt eval and the torch reference differ").isEmpty();
    }

    @Test
    void fewShotPromptsAreTheHarnessAndMatchTheTorchScorer() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(torch(), PYTHON + " cannot import torch: install Debian's python3-torch");
        // nq_open and mmlu from their own train/dev files; triviaqa and arc_easy from the file being evaluated (an item is
        // never its own example); truthfulqa_mc1 stays zero-shot.
        List<String> tasks = List.of("nq_open", "triviaqa", "mmlu", "arc_easy", "truthfulqa_mc1");
        List<String> shots = List.of("--shots", "2", "--fewshot-file", "nq_open=" + items("nq_open_train"),
                "--fewshot-file", "triviaqa=" + items("triviaqa"), "--fewshot-file", "mmlu=" + items("mmlu_dev"),
                "--fewshot-file", "arc_easy=" + items("arc_easy"), "--max-gen-toks", "32");
        Path out = tmp.resolve("eval-shots");
        List<String> args = new ArrayList<>(List.of("eval", run.toString(), "--log-samples", "--out", out.toString()));
        args.addAll(taskArgs(tasks));
        args.addAll(shots);
        CliRun r = CliRun.run(args.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("truthfulqa_mc1: zero-shot, as the harness keeps it");
        JsonNode results = JSON.readTree(out.resolve("results.json").toFile());
        assertThat(results.at("/n-shot/nq_open").asInt()).isEqualTo(2);
        assertThat(results.at("/n-shot/truthfulqa_mc1").asInt()).isZero();
        assertThat(results.at("/configs/mmlu/fewshot_file").asText()).isEqualTo(items("mmlu_dev").toString());

        JsonNode nq = JSON.readTree(Files.readAllLines(out.resolve("samples_nq_open.jsonl")).getFirst());
        assertThat(nq.at("/arguments/0/0").asText()).isEqualTo("Answer these questions:\n\n"
                + "Q: how many legs does a spider have?\nA: eight\n"
                + "Q: what colour is the sky on a clear day?\nA: blue\n"
                + "Q: who wrote the iliad and the odyssey?\nA:");
        JsonNode tq = JSON.readTree(Files.readAllLines(out.resolve("samples_triviaqa.jsonl")).getFirst());
        assertThat(tq.at("/arguments/0/0").asText()).startsWith("Question: The sun rises in the?\nAnswer: east\n\n"
                + "Question: What do cats drink?\nAnswer: Milk\n\nQuestion: Which Lancashire");

        JsonNode reference = reference(List.of("--weights", latestCheckpoint().resolve("engine/model.safetensors").toString()),
                tasks, shots, "reference-shots");
        List<String> bad = new ArrayList<>();
        compare(results, out, reference, tasks, bad);
        assertThat(bad).as("where cpt eval and the torch reference differ").isEmpty();
    }

    @Test
    void anHfCheckpointIsScoredAsTheTorchScorerScoresIt() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(torch(), PYTHON + " cannot import torch: install Debian's python3-torch");
        // A random GPT-2 in Hugging Face's layout (transformer. names, Conv1D weights, bf16), written by an independent script.
        Path dir = tmp.resolve("hf-gpt2");
        Exec w = exec(List.of(PYTHON, GenerateCommandTest.hfScript().toString(), "--out", dir.toString(), "--tokens", "1,2,3",
                "--layers", "2", "--d", "32", "--heads", "4", "--ctx", "64", "--vocab", "256", "--seed", "3", "--dtype", "BF16",
                "--prefix"));
        assertThat(w.exit).as("hf_gpt2_checkpoint.py failed:\n%s", w.output).isZero();
        // Long prompts (truthfulqa's primer, arc's questions) are cut from the left to the 64 positions; generations draw 16 tokens.
        List<String> tasks = List.of("arc_easy", "openbookqa", "piqa", "mmlu", "truthfulqa_mc2", "lambada", "triviaqa", "nq_open");
        Path out = tmp.resolve("eval-hf");
        List<String> args = new ArrayList<>(List.of("eval", "hf:" + dir, "--tokenizer", "bytes", "--batch", "2", "--log-samples",
                "--max-gen-toks", "16", "--out", out.toString()));
        args.addAll(taskArgs(tasks));
        CliRun r = CliRun.run(args.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode results = JSON.readTree(out.resolve("results.json").toFile());
        assertThat(results.at("/config/hf_dir").asText()).isEqualTo(dir.toString());
        assertThat(results.at("/config/max_length").asInt()).isEqualTo(64);
        assertThat(results.at("/config/checkpoint").isMissingNode()).isTrue();

        JsonNode reference = reference(List.of("--hf", dir.toString()), tasks, List.of("--max-gen-toks", "16"), "reference-hf");
        List<String> bad = new ArrayList<>();
        Compared c = compare(results, out, reference, tasks, bad);
        System.out.printf("cpt eval on hf: against torch: %d requests, worst log-likelihood difference %.3g; %d generations%n",
                c.requests, c.worst, c.generations);
        assertThat(bad).as("where cpt eval on hf: and the torch reference differ").isEmpty();

        // Without --tokenizer an hf: directory needs its tokenizer.json.
        CliRun noTokenizer = CliRun.run("eval", "hf:" + dir, "--task", "arc_easy=" + items("arc_easy"), "--out", out.toString());
        assertThat(noTokenizer.code()).isEqualTo(1);
        assertThat(noTokenizer.err()).contains("has no tokenizer.json; give --tokenizer");
    }

    /**
     * {@code cpt eval --engine torch} (libtorch on the CPU, batched and right-padded) against the same
     * independent scorer: on the simulator's run, on a run the torch engine trained (exported to
     * Hugging Face's layout for the reference to read), and on hf: GPT-2 and GPT-NeoX checkpoints.
     * The generative task's greedy generations run on the torch engine's KV cache.
     */
    @Test
    void theTorchEngineScoresAndGeneratesAsTheTorchScorer() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(torch(), PYTHON + " cannot import torch: install Debian's python3-torch");
        boolean ci = "1".equals(System.getenv("CPT_CI"));
        if (ci && !dev.cpt.ffi.NativeLibrary.present()) throw new AssertionError("CPT_CI=1 and libcpt_torch.so is not built");
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.cpt.ffi.NativeLibrary.present(), "libcpt_torch.so is not built");
        List<String> tasks = List.of("hellaswag", "arc_easy", "mmlu", "lambada", "triviaqa");

        // The simulator's run, read by the torch engine.
        torchAgreesWithTheReference("torch-on-sim-run", run.toString(), List.of(),
                List.of("--weights", latestCheckpoint().resolve("engine/model.safetensors").toString()), tasks);

        // A run the torch engine trained, exported for the reference.
        Path data = tmp.resolve("builtin");
        Path spec = Files.writeString(tmp.resolve("torch-run.json"), """
            { "name": "torch-evaluated", "seed": 6, "model": { "preset": "toy-xs", "contextLength": 128 }, "batch": { "sequences": 4, "seqLen": 64 },
              "datasets": { "en": { "train": "%s/en/train.bin", "val": "%s/en/val.bin" } },
              "stages": [ { "name": "pretrain", "steps": 10, "mix": { "en": 1 }, "lr": { "type": "constant", "value": 3e-3 } } ] }
            """.formatted(data, data));
        Path torchRun = tmp.resolve("torch-run");
        CliRun t = CliRun.run("train", spec.toString(), "--out", torchRun.toString(), "--engine", "torch", "--threads", "2");
        assertThat(t.code()).as(t.err()).isZero();
        Path exported = tmp.resolve("torch-run-hf");
        CliRun x = CliRun.run("export", torchRun.toString(), "--format", "hf", "--out", exported.toString());
        assertThat(x.code()).as(x.err()).isZero();
        torchAgreesWithTheReference("torch-on-torch-run", torchRun.toString(), List.of(), List.of("--hf", exported.toString()), tasks);

        // hf: GPT-2 (bf16 weights, transformer. names), GPT-NeoX (Pythia's rules; the vocabulary padded past the bytes') and MPT,
        // with 192 positions: hellaswag's endings are longer than 64 bytes.
        Path gpt2 = tmp.resolve("hf-gpt2-torch");
        Exec w = exec(List.of(PYTHON, GenerateCommandTest.hfScript().toString(), "--out", gpt2.toString(), "--tokens", "1,2,3",
                "--layers", "2", "--d", "32", "--heads", "4", "--ctx", "192", "--vocab", "256", "--seed", "3", "--dtype", "BF16", "--prefix"));
        assertThat(w.exit).as("hf_gpt2_checkpoint.py failed:\n%s", w.output).isZero();
        torchAgreesWithTheReference("torch-on-hf-gpt2", "hf:" + gpt2, List.of("--tokenizer", "bytes"), List.of("--hf", gpt2.toString()), tasks);
        Path neox = tmp.resolve("hf-neox");
        Exec n = exec(List.of(PYTHON, neoxScript().toString(), "--out", neox.toString(), "--rows", "1,2,3", "--layers", "2", "--d", "32",
                "--heads", "4", "--ctx", "192", "--vocab", "272", "--seed", "3"));
        assertThat(n.exit).as("hf_neox_checkpoint.py failed:\n%s", n.output).isZero();
        torchAgreesWithTheReference("torch-on-hf-neox", "hf:" + neox, List.of("--tokenizer", "bytes"), List.of("--hf", neox.toString()), tasks);
        // hf: MPT (ALiBi): 6 heads, so MPT's slopes for a head count that is not a power of two, alibi_bias_max 6, bf16 weights
        // and the head also saved as lm_head.weight; the reference runs hf_mpt_checkpoint.py's float64 MPT.
        Path mpt = tmp.resolve("hf-mpt");
        Exec m = exec(List.of(PYTHON, GenerateCommandTest.mptScript().toString(), "--out", mpt.toString(), "--rows", "1,2,3",
                "--layers", "2", "--d", "48", "--heads", "6", "--ctx", "192", "--vocab", "272", "--seed", "3", "--alibi-bias-max", "6",
                "--dtype", "BF16", "--head-saved"));
        assertThat(m.exit).as("hf_mpt_checkpoint.py failed:\n%s", m.output).isZero();
        torchAgreesWithTheReference("torch-on-hf-mpt", "hf:" + mpt, List.of("--tokenizer", "bytes"), List.of("--hf", mpt.toString()), tasks);

        // The simulator runs gpt2 only, and says which engine runs the rest.
        CliRun sim = CliRun.run("eval", "hf:" + neox, "--tokenizer", "bytes", "--task", "arc_easy=" + items("arc_easy"),
                "--out", tmp.resolve("refused").toString());
        assertThat(sim.code()).isEqualTo(1);
        assertThat(sim.err()).contains("is a neox model; the simulator (cpt eval --engine sim) runs gpt2 models only: use --engine torch");
        CliRun device = CliRun.run("eval", run.toString(), "--device", "cuda", "--task", "arc_easy=" + items("arc_easy"),
                "--out", tmp.resolve("refused").toString());
        assertThat(device.code()).isEqualTo(1);
        assertThat(device.err()).contains("--device and --precision are the torch engine's (--engine torch)");
    }

    /** cpt eval --engine torch on {@code model} and eval_reference.py on {@code refModel}: every log-likelihood, flag, generation and metric alike. */
    static void torchAgreesWithTheReference(String name, String model, List<String> extra, List<String> refModel, List<String> tasks)
            throws Exception {
        Path out = tmp.resolve(name);
        List<String> args = new ArrayList<>(List.of("eval", model, "--engine", "torch", "--batch", "3", "--log-samples", "--threads", "2",
                "--max-gen-toks", "16", "--out", out.toString()));
        args.addAll(extra);
        args.addAll(taskArgs(tasks));
        CliRun r = CliRun.run(args.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode results = JSON.readTree(out.resolve("results.json").toFile());
        assertThat(results.at("/config/engine").asText()).isEqualTo("torch");
        assertThat(results.at("/config/device").asText()).isEqualTo("cpu");
        JsonNode reference = reference(refModel, tasks, List.of("--max-gen-toks", "16"), name + "-reference");
        List<String> bad = new ArrayList<>();
        Compared c = compare(results, out, reference, tasks, bad);
        System.out.printf("cpt eval --engine torch (%s) against torch: %d requests, worst log-likelihood difference %.3g; "
                + "%d generations, %d equal%n", name, c.requests, c.worst, c.generations, c.sameGenerations);
        assertThat(bad).as("where cpt eval --engine torch (%s) and the torch reference differ", name).isEmpty();
    }

    /** The trainer module's script that writes a GPT-NeoX checkpoint in Hugging Face's layout. */
    static Path neoxScript() {
        Path here = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
        for (Path d = here; d != null; d = d.getParent()) {
            Path s = d.resolve("trainer/src/test/python/hf_neox_checkpoint.py");
            if (Files.isRegularFile(s)) return s;
        }
        throw new IllegalStateException("trainer/src/test/python/hf_neox_checkpoint.py not found above " + here);
    }

    static final class Compared {
        double worst;
        int requests;
        int generations;
        int sameGenerations;
    }

    /** Adds to {@code bad} every metric, log-likelihood, greedy flag and generation where cpt's output and the reference's differ. */
    static Compared compare(JsonNode results, Path out, JsonNode reference, List<String> tasks, List<String> bad) throws IOException {
        Compared c = new Compared();
        for (String task : tasks) {
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
                if (GENERATIVE.contains(task)) {
                    c.generations++;
                    if (!s.at("/arguments/0/0").asText().equals(it.get("context").asText())) bad.add(task + " item " + i + ": prompt differs");
                    String generated = s.at("/resps/0/0").asText();
                    if (generated.equals(it.get("resp").asText())) c.sameGenerations++;
                    else bad.add(task + " item " + i + ": generated " + JSON.valueToTree(generated) + " vs torch " + it.get("resp"));
                    if (!s.at("/filtered_resps/0").asText().equals(it.get("filtered").asText())) bad.add(task + " item " + i + ": filtered differs");
                    if (s.get("exact_match").asDouble() != it.get("exact_match").asDouble()) {
                        bad.add(task + " item " + i + ": exact_match " + s.get("exact_match") + " vs torch " + it.get("exact_match"));
                    }
                    continue;
                }
                JsonNode resps = s.get("filtered_resps");
                assertThat(resps.size()).as("%s item %d: responses", task, i).isEqualTo(it.get("lls").size());
                for (int k = 0; k < resps.size(); k++) {
                    double a = resps.get(k).get(0).asDouble();
                    double b = it.get("lls").get(k).asDouble();
                    c.worst = Math.max(c.worst, Math.abs(a - b) / Math.max(1, Math.abs(b)));
                    c.requests++;
                    if (!close(a, b)) bad.add(task + " item " + i + " choice " + k + ": log-likelihood " + a + " vs torch " + b);
                    if (resps.get(k).get(1).asBoolean() != it.get("greedy").get(k).asBoolean()) {
                        bad.add(task + " item " + i + " choice " + k + ": is_greedy differs");
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
        return c;
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

        Path badNq = Files.writeString(tmp.resolve("bad_nq.jsonl"), """
            {"question": "who wrote the iliad", "answer": ["Homer"]}
            {"question": "what is the capital of france", "answer": "Paris"}
            """);
        CliRun n = CliRun.run("eval", run.toString(), "--task", "nq_open=" + badNq, "--max-gen-toks", "8", "--out",
                tmp.resolve("bad-out").toString());
        assertThat(n.code()).isEqualTo(1);
        assertThat(n.err()).contains(badNq + ":2: not a nq_open item: field \"answer\" must be an array of strings");
        Path badTq = Files.writeString(tmp.resolve("bad_tq.jsonl"), "\n{\"question\": \"q\", \"answer\": {\"value\": \"v\"}}\n");
        CliRun t = CliRun.run("eval", run.toString(), "--task", "triviaqa=" + badTq, "--max-gen-toks", "8", "--out",
                tmp.resolve("bad-out").toString());
        assertThat(t.code()).isEqualTo(1);
        assertThat(t.err()).contains(badTq + ":2: not a triviaqa item: missing field \"answer.aliases\"");
        // A bad line in a file of examples is named the same way.
        CliRun s = CliRun.run("eval", run.toString(), "--task", "nq_open=" + items("nq_open"), "--shots", "1", "--fewshot-file",
                "nq_open=" + badNq, "--max-gen-toks", "8", "--out", tmp.resolve("bad-out").toString());
        assertThat(s.code()).isEqualTo(1);
        assertThat(s.err()).contains(badNq + ":2: not a nq_open item");
        assertThat(tmp.resolve("bad-out/results.json")).doesNotExist();
    }

    @Test
    void aDamagedCheckpointIsNamedBeforeItIsScoredAndTheSimulatorRefusesTorchOptionsAtOnce() throws IOException {
        // A copy of the run's checkpoint with one byte of its weights flipped: named against the manifest, nothing written.
        Path copy = tmp.resolve("damaged-run");
        TrainAndSweepCommandTest.copy(run, copy);
        Path checkpoint;
        try (Stream<Path> s = Files.list(copy.resolve("checkpoints"))) {
            checkpoint = s.filter(p -> p.getFileName().toString().startsWith("step-")).sorted().toList().getLast();
        }
        Path weights = checkpoint.resolve("engine/model.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        bytes[bytes.length - 3] ^= 0x01;
        Files.write(weights, bytes);
        CliRun r = CliRun.run("eval", copy.toString(), "--task", "arc_easy=" + items("arc_easy"), "--out", tmp.resolve("damaged-out").toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("checkpoint " + checkpoint + " is damaged: engine/model.safetensors fails its checksum");
        assertThat(tmp.resolve("damaged-out/results.json")).doesNotExist();

        CliRun device = CliRun.run("eval", run.toString(), "--task", "arc_easy=" + tmp.resolve("no-such.jsonl"), "--device", "cuda",
                "--out", tmp.resolve("device-out").toString());
        assertThat(device.code()).isEqualTo(1);
        assertThat(device.err()).contains("--device and --precision are the torch engine's (--engine torch)").doesNotContain("no-such.jsonl");
    }

    @Test
    void generationAndFewShotArgumentsAreChecked() {
        String m = run.toString();
        String nq = "nq_open=" + items("nq_open");
        String[][] cases = {
                // The toy model's context is 256: the harness's default max_gen_toks leaves no room for a prompt.
                {"--max-gen-toks 256 leaves no room for a prompt in the model's context of 256 tokens", "--task", nq},
                {"--max-gen-toks must be at least 1, not 0", "--task", nq, "--max-gen-toks", "0"},
                {"--shots 2 needs --fewshot-file nq_open=FILE", "--task", nq, "--shots", "2", "--max-gen-toks", "8"},
                {"--fewshot-file needs --shots N", "--task", nq, "--fewshot-file", nq, "--max-gen-toks", "8"},
                {"--fewshot-file arc_easy: no --task arc_easy", "--task", nq, "--shots", "1", "--fewshot-file", nq,
                        "--fewshot-file", "arc_easy=" + items("arc_easy"), "--max-gen-toks", "8"},
                {"--shots must be at least 0, not -1", "--task", nq, "--shots", "-1"},
                // Three items, each other's examples: two at most.
                {"--shots 3 but " + items("nq_open") + " has only 2 examples for it besides the item itself", "--task", nq,
                        "--shots", "3", "--fewshot-file", nq, "--max-gen-toks", "8"},
        };
        for (String[] c : cases) {
            List<String> args = new ArrayList<>(List.of("eval", m, "--out", tmp.resolve("arg-out").toString()));
            args.addAll(java.util.Arrays.asList(c).subList(1, c.length));
            CliRun r = CliRun.run(args.toArray(String[]::new));
            assertThat(r.code()).as(String.join(" ", args)).isEqualTo(1);
            assertThat(r.err()).as(String.join(" ", args)).contains(c[0]);
        }
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

    @Test
    void lossOnTokenDataIsTheRunsOwnValLossOnItsBatchesAndTheTorchReferencesOnEveryWindow() throws Exception {
        Path val = tmp.resolve("builtin/en/val.bin");
        // The run's validation: batches of 8 sequences of 64 tokens, eval.batches 1, recorded at its end (step 60).
        Path same = tmp.resolve("loss-run-batches");
        CliRun r = CliRun.run("eval", run.toString(), "--loss", "en=" + val, "--loss-seq-len", "64", "--batch", "8",
                "--loss-batches", "1", "--threads", "2", "--out", same.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("en: loss ").contains("(8 windows of 64 tokens)");
        JsonNode results = JSON.readTree(same.resolve("results.json").toFile());
        JsonNode end = JSON.readTree(Files.readAllLines(run.resolve("metrics.jsonl")).getLast());
        assertThat(end.get("step").asInt()).isEqualTo(60);
        assertThat(results.at("/results/en/loss,none").asDouble()).as("the run's recorded val loss at the checkpoint's step")
                .isEqualTo(end.at("/val/en").asDouble());
        assertThat(results.at("/results/en/perplexity,none").asDouble()).isEqualTo(Math.exp(results.at("/results/en/loss,none").asDouble()));
        assertThat(results.at("/configs/en/output_type").asText()).isEqualTo("loss");
        assertThat(results.at("/configs/en/batches").asInt()).isEqualTo(1);
        assertThat(results.at("/higher_is_better/en/loss").asBoolean()).isFalse();

        // Every window, in batches of 5 (the last one shorter), with a task beside it.
        Path all = tmp.resolve("loss-all");
        CliRun a = CliRun.run("eval", run.toString(), "--task", "arc_easy=" + items("arc_easy"), "--loss", "en=" + val,
                "--loss-seq-len", "64", "--batch", "5", "--threads", "2", "--out", all.toString());
        assertThat(a.code()).as(a.err()).isZero();
        JsonNode allResults = JSON.readTree(all.resolve("results.json").toFile());
        assertThat(allResults.at("/results/arc_easy/acc,none").isNumber()).isTrue();
        long windows = allResults.at("/n-samples/en/effective").asLong();
        assertThat(windows).isEqualTo(allResults.at("/n-samples/en/original").asLong()).isEqualTo((Files.size(val) / 2 - 1) / 64);
        assertThat(windows % 5).as("a shorter last batch is part of the check").isNotZero();
        assertThat(allResults.at("/configs/en/tokens").asLong()).isEqualTo(windows * 64);

        org.junit.jupiter.api.Assumptions.assumeTrue(torch(), PYTHON + " cannot import torch: install Debian's python3-torch");
        Path refOut = tmp.resolve("loss-reference.json");
        Exec ref = exec(List.of(PYTHON, script().toString(), "--weights", latestCheckpoint().resolve("engine/model.safetensors").toString(),
                "--loss", "en=" + val, "--loss-seq-len", "64", "--out", refOut.toString()));
        assertThat(ref.exit).as("eval_reference.py failed:\n%s", ref.output).isZero();
        JsonNode reference = JSON.readTree(refOut.toFile()).at("/loss/en");
        assertThat(reference.get("windows").asLong()).isEqualTo(windows);
        double ours = allResults.at("/results/en/loss,none").asDouble();
        System.out.printf("cpt eval --loss against torch (float64, one window at a time): %d windows, %.8f vs %.8f, difference %.3g%n",
                windows, ours, reference.get("loss").asDouble(), Math.abs(ours - reference.get("loss").asDouble()));
        assertThat(ours).isCloseTo(reference.get("loss").asDouble(), org.assertj.core.data.Offset.offset(TOLERANCE));
    }

    @Test
    void lossArgumentsAndDataAreChecked() throws IOException {
        Path out = tmp.resolve("loss-bad");
        CliRun none = CliRun.run("eval", run.toString(), "--out", out.toString());
        assertThat(none.code()).isEqualTo(1);
        assertThat(none.err()).contains("nothing to evaluate");
        CliRun missing = CliRun.run("eval", run.toString(), "--loss", "de=" + tmp.resolve("nope.bin"), "--out", out.toString());
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("--loss de=" + tmp.resolve("nope.bin"));
        CliRun tooLong = CliRun.run("eval", run.toString(), "--loss", "en=" + tmp.resolve("builtin/en/val.bin"), "--loss-seq-len", "999",
                "--out", out.toString());
        assertThat(tooLong.code()).isEqualTo(1);
        assertThat(tooLong.err()).contains("--loss-seq-len 999 is longer than the model's context of 256 tokens");
        CliRun clash = CliRun.run("eval", run.toString(), "--task", "arc_easy=" + items("arc_easy"), "--loss",
                "arc_easy=" + tmp.resolve("builtin/en/val.bin"), "--out", out.toString());
        assertThat(clash.code()).isEqualTo(1);
        assertThat(clash.err()).contains("--loss arc_easy has the name of a --task");
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
