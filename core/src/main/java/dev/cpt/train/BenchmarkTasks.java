package dev.cpt.train;

import dev.cpt.data.DataSources;
import dev.cpt.data.shard.TokenizerInfo;
import dev.cpt.data.tokenize.Tokenizer;
import dev.cpt.data.tokenize.Tokenizers;
import dev.cpt.eval.ContinuationScorer;
import dev.cpt.eval.EvalTask;
import dev.cpt.eval.Evaluation;
import dev.cpt.eval.TaskDoc;
import dev.cpt.eval.TaskFile;
import dev.cpt.eval.UntilGenerator;
import dev.cpt.spec.EvalSpec;
import dev.cpt.spec.RunSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A run's {@code eval.tasks}: the benchmarks' items, read once, and the tokenizer of the run's data,
 * scored on an engine's current weights exactly as {@code cpt eval} scores a checkpoint (zero-shot,
 * all items, {@link #BATCH} requests per forward, generative tasks up to
 * {@link EvalSpec#MAX_GEN_TOKENS} tokens), so a run's numbers are the ones {@code cpt eval} writes
 * for its stage-end checkpoints.
 */
public final class BenchmarkTasks {
    /** Log-likelihood requests per forward pass: {@code cpt eval}'s default --batch. */
    public static final int BATCH = 16;

    private final Map<String, List<TaskDoc>> docs;
    /** Where each task's items were read, for messages. */
    private final Map<String, Path> files;
    /** Task names in the spec's order (Map.copyOf forgets it): the order of the records and the report. */
    private final List<String> order;
    private final Tokenizer tokenizer;
    private final int contextLength;

    public BenchmarkTasks(Map<String, List<TaskDoc>> docs, Map<String, Path> files, Tokenizer tokenizer, int contextLength) {
        this.docs = Map.copyOf(docs);
        this.files = Map.copyOf(files);
        this.tokenizer = tokenizer;
        this.contextLength = contextLength;
        this.order = List.copyOf(docs.keySet());
    }

    /**
     * The tasks of {@code spec} (null without eval.tasks) with the tokenizer {@code data}'s token
     * files record; files are read as the spec reader checked them, relative to the working directory.
     *
     * @throws IllegalArgumentException when the data records no tokenizer cpt can open
     */
    public static BenchmarkTasks forRun(RunSpec spec, DataSources data) {
        if (!spec.eval().hasTasks()) return null;
        TokenizerInfo info = data.tokenizer().orElseThrow(() -> new IllegalArgumentException("eval.tasks: the run's data records no "
                + "tokenizer (it is not read from token files), so the tasks' text cannot be turned into tokens"));
        Tokenizer tokenizer;
        try {
            tokenizer = Tokenizers.open(info.id());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("eval.tasks: the run's data was made by the tokenizer " + info.describe()
                    + ", which cpt cannot open to turn the tasks' text into tokens: " + e.getMessage(), e);
        }
        return read(spec, tokenizer);
    }

    /** The tasks of {@code spec}, their text tokenized with {@code tokenizer}; null without eval.tasks. */
    public static BenchmarkTasks read(RunSpec spec, Tokenizer tokenizer) {
        if (!spec.eval().hasTasks()) return null;
        Map<String, List<TaskDoc>> docs = new LinkedHashMap<>();
        Map<String, Path> files = new LinkedHashMap<>();
        for (var e : spec.eval().tasks().entrySet()) {
            files.put(e.getKey(), Path.of(e.getValue()));
            try {
                docs.put(e.getKey(), TaskFile.read(EvalTask.byId(e.getKey()), Path.of(e.getValue()), null));
            } catch (IOException ex) {
                throw new UncheckedIOException("eval.tasks." + e.getKey() + ": " + ex.getMessage(), ex);
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("eval.tasks." + e.getKey() + ": " + ex.getMessage(), ex);
            }
        }
        int vocab = spec.model().shape().vocabSize();
        if (tokenizer.vocabSize() > vocab) {
            throw new IllegalArgumentException("eval.tasks: the tokenizer " + tokenizer.id() + " has " + tokenizer.vocabSize()
                    + " ids, more than the model's vocabulary of " + vocab);
        }
        return new BenchmarkTasks(docs, files, tokenizer, spec.model().shape().contextLength());
    }

    /**
     * Refuses an engine that cannot score (or, for a generative task, decode), before the run
     * starts rather than at its first stage end.
     */
    public void requireEngine(Engine engine) {
        if (!engine.canScoreTokens()) {
            throw new IllegalStateException("eval.tasks (" + String.join(", ", order) + ") needs an engine that scores token sequences,"
                    + " and the " + engine.info().name() + " engine cannot (the simulator can, and the torch engine on one rank"
                    + " or at ZeRO 0-2, where every rank holds whole weights); change that, or leave eval.tasks out and score the"
                    + " checkpoints with cpt eval");
        }
        for (String name : order) {
            if (EvalTask.byId(name).kind() == EvalTask.Kind.GENERATE_UNTIL && !engine.canDecode()) {
                throw new IllegalStateException("eval.tasks." + name + " is generative and needs an engine that generates text, and the "
                        + engine.info().name() + " engine cannot (the simulator can, and the torch engine on one rank or at ZeRO 0-2)");
            }
        }
    }

    /** Task names in the spec's order. */
    public List<String> names() {
        return order;
    }

    /**
     * Every task scored on {@code engine}'s current weights: per task its results.json metrics
     * ({@code "acc,none"}, {@code "acc_stderr,none"}, …; a standard error of "N/A" is left out).
     *
     * @throws IllegalStateException for an item this model cannot score (a continuation longer than its context), naming FILE:LINE
     */
    public Map<String, Map<String, Double>> score(Engine engine) {
        ContinuationScorer scorer = new ContinuationScorer(tokenizer, engine::scoreTokens, contextLength, BATCH);
        Map<String, Map<String, Double>> out = new LinkedHashMap<>();
        for (String name : order) {
            EvalTask task = EvalTask.byId(name);
            Evaluation.TaskResult r;
            try {
                r = task.kind() == EvalTask.Kind.GENERATE_UNTIL
                        ? Evaluation.generate(name, task, docs.get(name), 0,
                                new UntilGenerator(tokenizer, engine::decoder, contextLength, EvalSpec.MAX_GEN_TOKENS), done -> {})
                        : Evaluation.run(name, task, docs.get(name), 0, scorer, done -> {});
            } catch (Evaluation.ItemException e) {
                throw new IllegalStateException("eval.tasks." + name + ": " + files.get(name) + ":" + e.line() + ": " + e.getMessage(), e);
            }
            out.put(name, metrics(r));
        }
        return out;
    }

    /** The numbers of a task's results.json entry. */
    public static Map<String, Double> metrics(Evaluation.TaskResult r) {
        Map<String, Double> m = new LinkedHashMap<>();
        r.aggregate().forEach((k, v) -> {
            if (v instanceof Double d) m.put(k, d);
        });
        return m;
    }
}
