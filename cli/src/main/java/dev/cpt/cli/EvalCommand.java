package dev.cpt.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cpt.data.tokenize.Tokenizer;
import dev.cpt.eval.ContinuationScorer;
import dev.cpt.eval.EvalTask;
import dev.cpt.eval.Evaluation;
import dev.cpt.eval.TaskDoc;
import dev.cpt.eval.TaskFile;
import dev.cpt.eval.TokenLoss;
import dev.cpt.data.shard.Shards;
import dev.cpt.data.shard.TokenShard;
import dev.cpt.data.shard.TokenizerInfo;
import dev.cpt.eval.UntilGenerator;
import dev.cpt.record.Json;
import dev.cpt.spec.ModelSpec;
import dev.cpt.train.Engine;
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
            "Score a model on benchmarks as lm-evaluation-harness does. Multiple choice: each choice's log-likelihood "
                    + "as a continuation of the prompt (acc: the most likely choice; acc_norm: the most likely per character). "
                    + "Generative (triviaqa, nq_open): a greedy generation with the KV cache, cut at the first \"\\n\", \".\" "
                    + "or \",\", stripped, then exact match (case and punctuation ignored; nq_open also drops articles) against "
                    + "any of the answers. The harness's prompts, token split and standard errors. Runs on the simulator "
                    + "(gpt2 models) or, with --engine torch, on libtorch (gpt2, neox and mpt; --device cuda, --precision bf16).",
            "",
            "Tasks (JSON Lines in each dataset's own layout): hellaswag, arc_easy, arc_challenge, openbookqa, piqa, "
                    + "mmlu, truthfulqa_mc1, truthfulqa_mc2, lambada; triviaqa (rc.nocontext: question, answer.aliases), "
                    + "nq_open (question, answer).",
            "Writes DIR/results.json (results.TASK[\"acc,none\"], [\"exact_match,remove_whitespace\"], …) and, with "
                    + "--log-samples, DIR/samples_TASK.jsonl.",
            "--loss NAME=DATA adds the validation loss on token data (results.NAME[\"loss,none\"] and [\"perplexity,none\"])."
        })
final class EvalCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Parameters(index = "0", paramLabel = "MODEL", description = "The model: " + ModelSource.FORMS + ".")
    String model;

    @Option(names = "--task", paramLabel = "NAME=FILE",
            description = "A task and its items (JSON Lines); repeat for more tasks.")
    List<String> tasks;

    @Option(names = "--loss", paramLabel = "NAME=DATA",
            description = "Validation loss (mean next-token cross-entropy, nats) and perplexity on token data in any format "
                    + "cpt prepare or cpt train reads (made by the model's tokenizer), under NAME in results.json; repeat for more.")
    List<String> losses;

    @Option(names = "--loss-seq-len", paramLabel = "N",
            description = "--loss: tokens predicted per window (each window holds N + 1). Default: the model's context length.")
    Integer lossSeqLen;

    @Option(names = "--loss-batches", paramLabel = "N",
            description = "--loss: score N batches of --batch windows spread evenly over the data, as a run's validation does "
                    + "(eval.batches, batch.sequences, batch.seqLen give its recorded val loss). Default: every window.")
    Integer lossBatches;

    @Option(names = "--shots", defaultValue = "0", paramLabel = "N",
            description = "Few-shot examples before each item (default 0). They are the first N items of the task's "
                    + "--fewshot-file, in file order (mmlu: the first N of the item's subject, as the harness takes them from "
                    + "the dev split; the harness samples the other tasks' train split at random, so put the examples you want "
                    + "first), an item never its own example. Each is its prompt, \" \", its answer (the gold choice; a "
                    + "generative task's first answer) and \"\\n\\n\" (nq_open: \"\\n\"), after the task's description. "
                    + "truthfulqa_mc1/mc2 stay zero-shot, as the harness keeps them.")
    int shots;

    @Option(names = "--fewshot-file", paramLabel = "TASK=FILE",
            description = "Where a task's few-shot examples come from (its train or dev split, in the task's layout); "
                    + "repeat per task. Needed for every task when --shots is above 0.")
    List<String> fewshotFiles;

    @Option(names = "--max-gen-toks", defaultValue = "256", paramLabel = "N",
            description = "The most tokens a generative task draws per item; its context is cut from the left to the "
                    + "model's context less N. Default: ${DEFAULT-VALUE}, the harness's.")
    int maxGenToks;

    @Option(names = "--limit", paramLabel = "N", description = "Score only the first N items of each task.")
    Integer limit;

    @Option(names = "--batch", defaultValue = "16", paramLabel = "N",
            description = "Log-likelihood requests (or --loss windows) per forward pass (generations run one at a time). "
                    + "Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--log-samples",
            description = "Also write each item's log-likelihoods (or generation) and metrics to DIR/samples_TASK.jsonl.")
    boolean logSamples;

    @Option(names = "--tokenizer", paramLabel = "T",
            description = "The tokenizer (bytes, gpt2, hf:PATH); default: the run's training data's, or an hf: model's tokenizer.json.")
    String tokenizerId;

    @picocli.CommandLine.Mixin
    ModelEngineOptions run;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where results.json (and the samples) go.")
    Path out;

    @Override
    public Integer call() throws IOException {
        if (limit != null && limit < 1) throw new CliException("--limit must be at least 1, not " + limit);
        if (batch < 1) throw new CliException("--batch must be at least 1, not " + batch);
        if (shots < 0) throw new CliException("--shots must be at least 0, not " + shots);
        if (maxGenToks < 1) throw new CliException("--max-gen-toks must be at least 1, not " + maxGenToks);
        run.check();
        if ((tasks == null || tasks.isEmpty()) && (losses == null || losses.isEmpty())) {
            throw new CliException("nothing to evaluate: give --task NAME=FILE (a benchmark) or --loss NAME=DATA (token data), or both");
        }
        if (lossSeqLen != null && lossSeqLen < 1) throw new CliException("--loss-seq-len must be at least 1, not " + lossSeqLen);
        if (lossBatches != null && lossBatches < 1) throw new CliException("--loss-batches must be at least 1, not " + lossBatches);
        if ((lossSeqLen != null || lossBatches != null) && losses == null) {
            throw new CliException((lossSeqLen != null ? "--loss-seq-len" : "--loss-batches") + " needs --loss NAME=DATA");
        }
        Map<String, Path> files = tasks == null ? Map.of() : parseTasks(tasks, "--task");
        Map<String, Path> lossFiles = losses == null ? Map.of() : parseLosses(losses, files);
        Map<String, Path> shotFiles = fewshotFiles == null ? Map.of() : parseTasks(fewshotFiles, "--fewshot-file");
        for (String name : shotFiles.keySet()) {
            if (!files.containsKey(name)) throw new CliException("--fewshot-file " + name + ": no --task " + name + " to take examples for");
        }
        if (shots == 0 && !shotFiles.isEmpty()) throw new CliException("--fewshot-file needs --shots N (N above 0)");
        for (String name : files.keySet()) {
            if (shots > 0 && !EvalTask.byId(name).zeroShotOnly() && !shotFiles.containsKey(name)) {
                throw new CliException("--shots " + shots + " needs --fewshot-file " + name + "=FILE: the examples of " + name
                        + " (the harness takes them from its train or dev split)");
            }
        }
        ModelSource source = ModelSource.open(model);
        run.requireRunnable(source, "cpt eval");
        ModelSpec.Shape shape = source.shape();
        boolean generative = files.keySet().stream().anyMatch(n -> EvalTask.byId(n).kind() == EvalTask.Kind.GENERATE_UNTIL);
        if (generative && maxGenToks >= shape.contextLength()) {
            throw new CliException("--max-gen-toks " + maxGenToks + " leaves no room for a prompt in the model's context of "
                    + shape.contextLength() + " tokens (the harness cuts prompts to the context less max_gen_toks); give a "
                    + "smaller --max-gen-toks");
        }
        Tokenizer tokenizer = source.tokenizer(tokenizerId);
        int seqLen = lossSeqLen != null ? lossSeqLen : shape.contextLength();
        if (seqLen > shape.contextLength()) {
            throw new CliException("--loss-seq-len " + seqLen + " is longer than the model's context of " + shape.contextLength() + " tokens");
        }
        // Token data is opened (and its tokenizer checked against the model's) before the model runs.
        Map<String, TokenShard> lossData = new LinkedHashMap<>();
        for (var e : lossFiles.entrySet()) {
            TokenShard shard;
            try {
                shard = Shards.open(e.getValue(), TokenizerInfo.of(tokenizer));
            } catch (RuntimeException ex) {
                throw new CliException("--loss " + e.getKey() + "=" + e.getValue() + ": " + ex.getMessage(), ex);
            }
            if (!Shards.sameTokenizer(shard.tokenizer(), TokenizerInfo.of(tokenizer))) {
                throw new CliException("--loss " + e.getKey() + "=" + e.getValue() + ": made by the tokenizer " + shard.tokenizer().describe()
                        + ", not the model's " + TokenizerInfo.of(tokenizer).describe());
            }
            if (dev.cpt.data.Windows.count(shard, seqLen) == 0) {
                throw new CliException("--loss " + e.getKey() + "=" + e.getValue() + ": " + shard.length() + " tokens, fewer than one window of "
                        + (seqLen + 1) + " (--loss-seq-len " + seqLen + " + 1)");
            }
            lossData.put(e.getKey(), shard);
        }
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();

        // Every task file (and every file of examples) is read and checked before the model runs.
        Map<String, List<TaskDoc>> docs = new LinkedHashMap<>();
        Map<String, Integer> original = new LinkedHashMap<>();
        Map<String, Integer> taskShots = new LinkedHashMap<>();
        for (var e : files.entrySet()) {
            EvalTask task = EvalTask.byId(e.getKey());
            try {
                List<TaskDoc> items = TaskFile.read(task, e.getValue(), limit);
                original.put(e.getKey(), limit == null ? items.size() : TaskFile.read(task, e.getValue(), null).size());
                int k = task.zeroShotOnly() ? 0 : shots;
                if (shots > 0 && task.zeroShotOnly()) {
                    err.println(e.getKey() + ": zero-shot, as the harness keeps it (its config fixes num_fewshot at 0); --shots ignored");
                }
                if (k > 0) items = withShots(task, e.getKey(), items, e.getValue(), shotFiles.get(e.getKey()), k);
                docs.put(e.getKey(), items);
                taskShots.put(e.getKey(), k);
            } catch (TaskFile.TaskFileException ex) {
                throw new CliException(ex.getMessage());
            }
        }
        Path outDir = out.toAbsolutePath();
        Files.createDirectories(outDir);

        List<Evaluation.TaskResult> results = new ArrayList<>();
        List<TokenLoss.Result> lossResults = new ArrayList<>();
        String engineName;
        try (Engine scoring = run.open(source, "cpt eval")) {
            engineName = scoring.info().name();
            ContinuationScorer scorer = new ContinuationScorer(tokenizer, scoring::scoreTokens, shape.contextLength(), batch);
            UntilGenerator generator = generative
                    ? new UntilGenerator(tokenizer, scoring::decoder, shape.contextLength(), maxGenToks) : null;
            for (var e : docs.entrySet()) {
                EvalTask task = EvalTask.byId(e.getKey());
                boolean gen = task.kind() == EvalTask.Kind.GENERATE_UNTIL;
                long requests = gen ? e.getValue().size() : e.getValue().stream().mapToLong(d -> d.continuations().size()).sum();
                Evaluation.TaskResult r;
                try (Progress.Meter bar = Progress.meter(err, "eval " + e.getKey(), Progress.Unit.REQUESTS, requests)) {
                    r = gen ? Evaluation.generate(e.getKey(), task, e.getValue(), taskShots.get(e.getKey()), generator, bar::stepTo)
                            : Evaluation.run(e.getKey(), task, e.getValue(), taskShots.get(e.getKey()), scorer, bar::stepTo);
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
            for (var e : lossData.entrySet()) {
                TokenLoss.Result r;
                long windows = TokenLoss.windowsToScore(e.getValue(), seqLen, batch, lossBatches);
                try (Progress.Meter bar = Progress.meter(err, "loss " + e.getKey(), Progress.Unit.WINDOWS, windows)) {
                    r = TokenLoss.measure(e.getKey(), e.getValue(), seqLen, batch, lossBatches, scoring::evalLoss, bar::stepTo);
                }
                lossResults.add(r);
                o.println(String.format(Locale.ROOT, "%s: loss %.4f, perplexity %.4f (%,d windows of %d tokens)", e.getKey(), r.loss(),
                        r.perplexity(), r.windows(), r.seqLen()));
            }
        }

        ObjectNode config = Json.MAPPER.createObjectNode();
        config.put("model", model);
        source.checkpoint().ifPresentOrElse(ckpt -> {
            config.put("checkpoint", ckpt.dir().toString());
            config.put("step", ckpt.step());
        }, () -> config.put("hf_dir", model.substring("hf:".length())));
        config.put("engine", run.engine == Engines.Kind.sim ? "simulator" : "torch");
        if (run.engine == Engines.Kind.torch) {
            config.put("device", run.device.toLowerCase(Locale.ROOT));
            config.put("precision", run.precision.toLowerCase(Locale.ROOT));
        }
        config.put("engine_info", engineName);
        config.put("tokenizer", tokenizer.id());
        config.put("max_length", shape.contextLength());
        config.put("batch_size", batch);
        config.put("num_fewshot", shots);
        if (generative) config.put("max_gen_toks", maxGenToks);
        if (limit == null) config.putNull("limit");
        else config.put("limit", limit);
        Map<String, String> fileNames = new LinkedHashMap<>();
        files.forEach((k, v) -> fileNames.put(k, v.toString()));
        ObjectNode json = Evaluation.resultsJson(results, original, fileNames, config);
        shotFiles.forEach((k, v) -> ((ObjectNode) json.get("configs").get(k)).put("fewshot_file", v.toString()));
        for (TokenLoss.Result r : lossResults) addLoss(json, r, lossFiles.get(r.name()));
        byte[] text = (Json.PRETTY.writeValueAsString(json) + "\n").getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(outDir.resolve("results.json"), w -> w.write(text));
        o.println("results: " + outDir.resolve("results.json"));
        return 0;
    }

    /** A --loss result in results.json, beside the tasks: results.NAME["loss,none"] and ["perplexity,none"]. */
    private static void addLoss(ObjectNode json, TokenLoss.Result r, Path file) {
        ObjectNode res = ((ObjectNode) json.get("results")).putObject(r.name());
        res.put("alias", r.name());
        res.put("loss,none", r.loss());
        res.put("perplexity,none", r.perplexity());
        ((ObjectNode) json.get("n-samples")).putObject(r.name()).put("original", r.totalWindows()).put("effective", r.windows());
        ((ObjectNode) json.get("higher_is_better")).putObject(r.name()).put("loss", false).put("perplexity", false);
        ObjectNode c = ((ObjectNode) json.get("configs")).putObject(r.name());
        c.put("output_type", "loss");
        c.put("data_file", file.toString());
        c.put("seq_len", r.seqLen());
        c.put("batch_size", r.batchSize());
        if (r.batches() == null) c.putNull("batches");
        else c.put("batches", r.batches());
        c.put("tokens", r.tokens());
    }

    /** --loss NAME=DATA pairs in the order given; a name given twice, or also a --task's, is a usage error. */
    private static Map<String, Path> parseLosses(List<String> pairs, Map<String, Path> tasks) {
        return parsePairs(pairs, "--loss", "NAME=DATA", (name, given) -> {
            if (tasks.containsKey(name)) throw new CliException("--loss " + name + " has the name of a --task: results.json keys both by name");
        });
    }

    /** Each item with its {@code k} examples: the first of {@code shotFile}'s items that fit it (TaskDoc.firstShots). */
    private static List<TaskDoc> withShots(EvalTask task, String name, List<TaskDoc> items, Path file, Path shotFile, int k)
            throws IOException {
        List<TaskDoc> pool = TaskFile.read(task, shotFile, null);
        boolean same = Files.isSameFile(file, shotFile);
        List<TaskDoc> out = new ArrayList<>(items.size());
        for (TaskDoc d : items) {
            List<TaskDoc> examples = TaskDoc.firstShots(d, pool, k, same);
            if (examples.size() < k) {
                throw new CliException(file + ":" + d.line() + ": --shots " + k + " but " + shotFile + " has only " + examples.size()
                        + " example" + (examples.size() == 1 ? "" : "s") + " for it"
                        + (task == EvalTask.MMLU ? " (of its subject)" : "") + (same ? " besides the item itself" : ""));
            }
            out.add(d.withShots(examples, task.fewshotDelimiter()));
        }
        return out;
    }

    /** NAME=FILE pairs in the order given; an unknown name or a task given twice is a usage error. */
    private static Map<String, Path> parseTasks(List<String> pairs, String option) {
        return parsePairs(pairs, option, "NAME=FILE", (name, given) -> {
            try {
                EvalTask.byId(name);
            } catch (IllegalArgumentException e) {
                throw new CliException(option + " " + given + ": " + e.getMessage());
            }
        });
    }

    /**
     * {@code option}'s NAME=PATH pairs in the order given, each name checked by {@code checkName}
     * (with the pair as given); a malformed pair or a name given twice is a usage error.
     */
    private static Map<String, Path> parsePairs(List<String> pairs, String option, String form,
                                                java.util.function.BiConsumer<String, String> checkName) {
        Map<String, Path> files = new LinkedHashMap<>();
        for (String s : pairs) {
            int eq = s.indexOf('=');
            if (eq <= 0 || eq == s.length() - 1) throw new CliException(option + " must be " + form + ", not \"" + s + "\"");
            String name = s.substring(0, eq).strip();
            checkName.accept(name, s);
            if (files.put(name, Path.of(s.substring(eq + 1).strip())) != null) throw new CliException(option + " " + name + " is given twice");
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
