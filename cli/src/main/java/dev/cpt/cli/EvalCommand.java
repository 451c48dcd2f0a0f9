package dev.cpt.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cpt.data.tokenize.Tokenizer;
import dev.cpt.eval.ContinuationScorer;
import dev.cpt.eval.EvalTask;
import dev.cpt.eval.Evaluation;
import dev.cpt.eval.TaskDoc;
import dev.cpt.eval.TaskFile;
import dev.cpt.record.Json;
import dev.cpt.sim.SimEngine;
import dev.cpt.spec.ModelSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cpt eval MODEL --task NAME=FILE… --out DIR}: benchmarks scored as lm-evaluation-harness scores them. */
@Command(name = "eval",
        sortOptions = false,
        description = {
            "Score a trained model on multiple-choice benchmarks as lm-evaluation-harness does: each choice's log-likelihood "
                    + "as a continuation of the prompt (acc: the most likely choice; acc_norm: the most likely per character), "
                    + "with the harness's prompts, token split and standard errors. Runs on the simulator (gpt2 models).",
            "",
            "Tasks (JSON Lines in each dataset's own layout): " + "hellaswag, arc_easy, arc_challenge, openbookqa, piqa, "
                    + "mmlu (zero-shot), truthfulqa_mc1, truthfulqa_mc2, lambada.",
            "Writes DIR/results.json (results.TASK[\"acc,none\"], …) and, with --log-samples, DIR/samples_TASK.jsonl."
        })
final class EvalCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Parameters(index = "0", paramLabel = "MODEL",
            description = "A run directory (its latest checkpoint) or one of its checkpoints, DIR/checkpoints/step-N.")
    Path model;

    @Option(names = "--task", required = true, paramLabel = "NAME=FILE",
            description = "A task and its items (JSON Lines); repeat for more tasks.")
    List<String> tasks;

    @Option(names = "--limit", paramLabel = "N", description = "Score only the first N items of each task.")
    Integer limit;

    @Option(names = "--batch", defaultValue = "16", paramLabel = "N", description = "Requests per forward pass. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--log-samples", description = "Also write each item's log-likelihoods and metrics to DIR/samples_TASK.jsonl.")
    boolean logSamples;

    @Option(names = "--tokenizer", paramLabel = "T",
            description = "The tokenizer (bytes, gpt2, hf:PATH); default: the one the run's training data was prepared with.")
    String tokenizerId;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N", description = "Threads the engine computes on (default: all cores).")
    int threads;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where results.json (and the samples) go.")
    Path out;

    @Override
    public Integer call() throws IOException {
        if (limit != null && limit < 1) throw new CliException("--limit must be at least 1, not " + limit);
        if (batch < 1) throw new CliException("--batch must be at least 1, not " + batch);
        Map<String, Path> files = parseTasks();
        ModelSource source = ModelSource.open(model.toString());
        if (source.isHf()) throw new CliException("cpt eval scores cpt runs and checkpoints; hf: models are not supported yet");
        source.requireSimulatorArch("cpt eval");
        ModelSource.Checkpoint ckpt = source.checkpoint().orElseThrow();
        ModelSpec.Shape shape = source.shape();
        Tokenizer tokenizer = source.tokenizer(tokenizerId);

        // Every task file is read (and checked) before the model runs.
        Map<String, List<TaskDoc>> docs = new LinkedHashMap<>();
        Map<String, Integer> original = new LinkedHashMap<>();
        for (var e : files.entrySet()) {
            EvalTask task = EvalTask.byId(e.getKey());
            try {
                docs.put(e.getKey(), TaskFile.read(task, e.getValue(), limit));
                original.put(e.getKey(), limit == null ? docs.get(e.getKey()).size() : TaskFile.read(task, e.getValue(), null).size());
            } catch (TaskFile.TaskFileException ex) {
                throw new CliException(ex.getMessage());
            }
        }
        Path outDir = out.toAbsolutePath();
        Files.createDirectories(outDir);

        int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        List<Evaluation.TaskResult> results = new ArrayList<>();
        PrintWriter o = spec.commandLine().getOut();
        try (SimEngine engine = source.simEngine(t)) {
            ContinuationScorer scorer = new ContinuationScorer(tokenizer, engine::scoreTokens, shape.contextLength(), batch);
            for (var e : docs.entrySet()) {
                EvalTask task = EvalTask.byId(e.getKey());
                long requests = e.getValue().stream().mapToLong(d -> d.continuations().size()).sum();
                Evaluation.TaskResult r;
                try (Progress.Meter bar = Progress.meter(spec.commandLine().getErr(), "eval " + e.getKey(),
                        Progress.Unit.REQUESTS, requests)) {
                    r = Evaluation.run(e.getKey(), task, e.getValue(), scorer, bar::stepTo);
                } catch (Evaluation.ItemException ex) {
                    throw new CliException(files.get(e.getKey()) + ":" + ex.line() + ": " + ex.getMessage());
                }
                results.add(r);
                o.println(e.getKey() + ": " + describe(r));
                if (logSamples) {
                    String text = String.join("\n", Evaluation.sampleLines(r)) + "\n";
                    AtomicFiles.write(outDir.resolve("samples_" + e.getKey() + ".jsonl"), w -> w.write(text.getBytes(StandardCharsets.UTF_8)));
                }
            }
        }

        ObjectNode config = Json.MAPPER.createObjectNode();
        config.put("model", model.toString());
        config.put("checkpoint", ckpt.dir().toString());
        config.put("step", ckpt.step());
        config.put("engine", "simulator");
        config.put("tokenizer", tokenizer.id());
        config.put("max_length", shape.contextLength());
        config.put("batch_size", batch);
        if (limit == null) config.putNull("limit");
        else config.put("limit", limit);
        Map<String, String> fileNames = new LinkedHashMap<>();
        files.forEach((k, v) -> fileNames.put(k, v.toString()));
        ObjectNode json = Evaluation.resultsJson(results, original, fileNames, config);
        byte[] text = (Json.PRETTY.writeValueAsString(json) + "\n").getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(outDir.resolve("results.json"), w -> w.write(text));
        o.println("results: " + outDir.resolve("results.json"));
        return 0;
    }

    /** NAME=FILE pairs in the order given; an unknown name or a task given twice is a usage error. */
    private Map<String, Path> parseTasks() {
        Map<String, Path> files = new LinkedHashMap<>();
        for (String s : tasks) {
            int eq = s.indexOf('=');
            if (eq <= 0 || eq == s.length() - 1) throw new CliException("--task must be NAME=FILE, not \"" + s + "\"");
            String name = s.substring(0, eq).strip();
            try {
                EvalTask.byId(name);
            } catch (IllegalArgumentException e) {
                throw new CliException("--task " + s + ": " + e.getMessage());
            }
            if (files.put(name, Path.of(s.substring(eq + 1).strip())) != null) throw new CliException("--task " + name + " is given twice");
        }
        return files;
    }

    private static String describe(Evaluation.TaskResult r) {
        StringBuilder b = new StringBuilder().append(r.docs().size()).append(" items");
        r.aggregate().forEach((k, v) -> {
            if (k.equals("alias")) return;
            String name = k.substring(0, k.indexOf(','));
            b.append(name.endsWith("_stderr") ? " ± " : ", " + name + " ");
            b.append(v instanceof Double d ? String.format(Locale.ROOT, "%.4f", d) : v);
        });
        return b.toString();
    }
}
