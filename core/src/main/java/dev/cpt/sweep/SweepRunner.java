package dev.cpt.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cpt.data.DataSources;
import dev.cpt.metrics.RunSummary;
import dev.cpt.plan.RunPlan;
import dev.cpt.plan.Stage;
import dev.cpt.record.AtomicFiles;
import dev.cpt.record.Json;
import dev.cpt.record.MetricsLog;
import dev.cpt.record.RunDirectory;
import dev.cpt.record.StepRecord;
import dev.cpt.report.SweepReport;
import dev.cpt.report.VariantResult;
import dev.cpt.train.Engine;
import dev.cpt.train.EngineFactory;
import dev.cpt.train.TrainingDivergedException;
import dev.cpt.train.TrainingLoop;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs every variant of a sweep, {@code jobs} at a time, each as an ordinary run directory:
 *
 * <pre>
 * OUT/sweep.json                the sweep as run, its base inlined
 * OUT/runs/VARIANT/             spec.json, metrics.jsonl, summary.json, checkpoints/ (error.txt if it failed)
 * OUT/report.md, OUT/*.png      {@link SweepReport}
 * </pre>
 *
 * <p>Run again on the same directory, a sweep picks up where it stopped: a run whose
 * {@code summary.json} is there is skipped, an interrupted one resumes from its latest checkpoint
 * (exactly as if it had not stopped), a failed one is tried again from its last good checkpoint.
 * A run directory whose {@code spec.json} differs from its variant's spec now stops the sweep before
 * anything runs: the user deletes it to rerun that variant with its new spec.
 *
 * <p>A run that fails (its data, its engine, a divergence) is recorded in its {@code error.txt} and
 * in the result; the other runs go on. The data of every run to do is opened before any trains,
 * so that a missing file shows at once.
 */
public final class SweepRunner {
    public static final String SWEEP_JSON = "sweep.json";
    public static final String RUNS = "runs";
    public static final String REPORT = "report.md";
    public static final String ERROR = "error.txt";

    private SweepRunner() {}

    /** The run directory of {@code variant} in a sweep written to {@code outDir}. */
    public static Path runDir(Path outDir, String variant) {
        return outDir.resolve(RUNS).resolve(variant);
    }

    /** The step a run of {@code spec} in {@code runDir} resumes from: its latest checkpoint's; 0 without a spec.json or checkpoint. */
    public static long resumeStep(Path runDir, dev.cpt.spec.RunSpec spec) throws IOException {
        if (!Files.exists(runDir.resolve("spec.json"))) return 0;
        return RunDirectory.resume(runDir, spec).latestCheckpoint().map(c -> c.state().step()).orElse(0L);
    }

    /**
     * Runs the sweep into {@code outDir} on {@code jobs} threads, each run's engine computing on
     * {@code max(1, processors / j)} threads where {@code j} is {@code jobs}, or fewer when fewer runs
     * are left to do; then writes the report. Returns every run's result, failed ones included. An
     * engine whose numbers do not depend on its thread count (the simulator) is given more threads
     * between steps while fewer runs train than there are cores (the sweep's tail), and back again.
     *
     * @throws IllegalStateException when a run directory holds a run of a different spec (nothing ran)
     */
    public static SweepResult run(SweepSpec sweep, Path outDir, int jobs, EngineFactory engines, DataProvider data,
                                  SweepListener listener) throws IOException {
        return run(sweep, outDir, jobs, engines, data, listener, SharedStages.create());
    }

    /**
     * As {@link #run(SweepSpec, Path, int, EngineFactory, DataProvider, SweepListener)}, with the stage
     * ends runs may start from ({@link SharedStages}): those already on disk (in this sweep's run
     * directories, or registered by earlier sweeps) and those this sweep's runs write. A run that can
     * start from another run's stage end waits for it without holding a worker; if that run fails
     * before it, the waiting run starts from the deepest stage end there is, or from scratch.
     */
    public static SweepResult run(SweepSpec sweep, Path outDir, int jobs, EngineFactory engines, DataProvider data,
                                  SweepListener listener, SharedStages shared) throws IOException {
        if (jobs < 1) throw new IllegalArgumentException("jobs must be at least 1, not " + jobs);
        Progress progress = new Progress(listener == null ? SweepListener.NONE : listener);
        long savedBefore = shared.savedSteps();

        // What each run needs, and nothing run while any run directory holds another spec.
        List<Task> todo = new ArrayList<>();
        Map<String, Boolean> finished = new LinkedHashMap<>();
        List<String> changed = new ArrayList<>();
        long done = 0, total = 0;
        for (SweepSpec.Variant v : sweep.variants()) {
            Path dir = runDir(outDir, v.name());
            total += v.plan().totalSteps();
            Path spec = dir.resolve("spec.json");
            if (Files.exists(spec)) {
                String difference = difference(spec, v);
                if (difference != null) {
                    changed.add(dir + " holds a run of a different spec (" + difference + ")");
                    continue;
                }
                shared.registerExisting(v.plan(), dir);
            }
            if (Files.exists(dir.resolve("summary.json"))) {
                finished.put(v.name(), true);
                done += v.plan().totalSteps();
            } else {
                long from = resumeStep(dir, v.spec());
                done += from;
                todo.add(new Task(v, dir, from));
            }
        }
        if (!changed.isEmpty()) {
            throw new IllegalStateException(String.join("\n", changed) + "\n" + (changed.size() == 1 ? "Delete that directory"
                    : "Delete those directories") + " to run the changed " + (changed.size() == 1 ? "variant" : "variants")
                    + " again, or write the sweep to another directory; nothing was run.");
        }
        total -= planSharing(todo, shared);
        AtomicFiles.writeJson(outDir.resolve(SWEEP_JSON), sweep.json());
        Files.createDirectories(outDir.resolve(RUNS));
        progress.started(sweep.variants().stream().map(SweepSpec.Variant::name).toList(), done, total);
        for (String name : finished.keySet()) progress.skipped(name);

        // Every run's data before any training.
        Map<String, String> errors = new ConcurrentHashMap<>();
        Map<String, RunSummary> summaries = new ConcurrentHashMap<>();
        List<Task> ready = new ArrayList<>();
        List<Task> unopened = new ArrayList<>();
        for (Task t : todo) {
            try {
                t.data = data.open(t.variant.plan());
                if (t.data == null) throw new IllegalStateException("the data provider opened nothing");
                ready.add(t);
            } catch (Exception | LinkageError e) {
                fail(t, e, errors, progress);
                unopened.add(t);
            }
        }

        for (Task t : unopened) {
            if (t.producer != null) t.producer.waiters.get(t.depth).remove(t);
        }

        if (!ready.isEmpty()) {
            int parallel = Math.min(jobs, ready.size());
            int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / parallel);
            Object setup = new Object();
            AtomicInteger n = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(parallel, r -> {
                Thread th = new Thread(r, "cpt-sweep-" + n.incrementAndGet());
                th.setDaemon(true);
                return th;
            });
            Worker worker = new Worker(pool, engines, threads, Runtime.getRuntime().availableProcessors(), setup, progress, errors,
                    summaries, shared, new AtomicInteger());
            try {
                // Runs others wait for first, so that the waiting ones can start as early as possible.
                List<Task> order = new ArrayList<>(ready);
                order.sort(java.util.Comparator.comparingInt((Task t) -> -t.waiting()));
                for (Task t : order) if (t.producer == null) worker.submit(t);
                for (Task t : unopened) worker.ended(t); // whoever waits on it trains the stage itself
                for (Task t : ready) t.done.get();
            } catch (InterruptedException e) {
                pool.shutdownNow();
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("the sweep was interrupted");
            } catch (ExecutionException e) {
                throw new IllegalStateException("a sweep worker failed", e.getCause()); // train() catches what a run throws
            } finally {
                pool.shutdown();
            }
        }

        List<VariantResult> results = new ArrayList<>();
        for (SweepSpec.Variant v : sweep.variants()) {
            Path dir = runDir(outDir, v.name());
            List<StepRecord> metrics = readMetrics(dir);
            String error = errors.get(v.name());
            RunSummary summary = error != null ? null : summaries.get(v.name());
            boolean skipped = finished.containsKey(v.name());
            if (skipped) summary = Json.MAPPER.readValue(dir.resolve("summary.json").toFile(), RunSummary.class);
            results.add(new VariantResult(v.name(), v.overrides(), v.plan(), summary, metrics, error, skipped));
        }
        SweepReport.write(outDir, sweep.name(), results);
        return new SweepResult(outDir, results, shared.savedSteps() - savedBefore);
    }

    /**
     * Gives each run that has trained nothing yet the deepest stage end it can start from: one on
     * disk, or one an earlier run of this sweep will write (that run is its producer). Returns the
     * steps this saves.
     */
    private static long planSharing(List<Task> todo, SharedStages shared) {
        if (!shared.enabled()) return 0;
        Map<String, Task> producers = new java.util.HashMap<>();
        long saved = 0;
        for (Task t : todo) {
            List<Stage> stages = t.variant.plan().stages();
            int last = stages.size() - 1;
            if (t.from == 0) {
                for (int k = last - 1; k >= 0; k--) {
                    String key = t.keys.get(k);
                    var onDisk = shared.find(key);
                    if (onDisk.isPresent()) {
                        t.source = onDisk.get();
                        t.depth = k;
                        break;
                    }
                    Task p = producers.get(key);
                    if (p != null) {
                        t.producer = p;
                        t.depth = k;
                        p.waiters.get(k).add(t);
                        break;
                    }
                }
            }
            if (t.depth >= 0) {
                t.plannedShare = stages.get(t.depth).end();
                saved += t.plannedShare;
            }
            for (int k = t.depth + 1; k < last; k++) {
                if (stages.get(k).end() > t.from && shared.find(t.keys.get(k)).isEmpty()) producers.putIfAbsent(t.keys.get(k), t);
            }
        }
        return saved;
    }

    private static final class Task {
        final SweepSpec.Variant variant;
        final Path dir;
        final long from;
        final List<String> keys;
        /** Per stage, the runs waiting to start from this run's end of it (guarded by the worker). */
        final List<List<Task>> waiters = new ArrayList<>();
        final java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
        DataSources data;
        int depth = -1;
        long plannedShare;
        Task producer;
        volatile SharedStages.Source source;

        Task(SweepSpec.Variant variant, Path dir, long from) {
            this.variant = variant;
            this.dir = dir;
            this.from = from;
            this.keys = SharedStages.keys(variant.plan());
            for (int i = 0; i < keys.size(); i++) waiters.add(new ArrayList<>());
        }

        /** How many runs wait on this one's stage ends. */
        int waiting() {
            return waiters.stream().mapToInt(List::size).sum();
        }
    }

    /**
     * Trains tasks on the pool, and starts the runs waiting on a stage end once it is written. A run
     * that ends without writing a stage end others wait on hands them to the first of them, which
     * trains that stage from the deepest stage end on disk (or from scratch) and so writes it.
     */
    private record Worker(ExecutorService pool, EngineFactory engines, int threads, int cores, Object setup, Progress progress,
                          Map<String, String> errors, Map<String, RunSummary> summaries, SharedStages shared,
                          AtomicInteger training) {
        /**
         * The threads a run may compute on now: the cores shared among the runs training. When fewer
         * runs train than there are jobs (the sweep's last runs, or runs waiting on a stage end), the
         * idle cores go to those that do; an engine takes them between steps ({@link Engine#setThreads}).
         */
        int share() {
            return Math.max(threads, cores / Math.max(1, training.get()));
        }

        void submit(Task t) {
            try {
                pool.submit(() -> {
                    try {
                        train(t, this);
                    } finally {
                        ended(t);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                t.done.complete(null); // the sweep is being interrupted
            }
        }

        synchronized void stageEnded(Task t, int stage, SharedStages.Source source) {
            for (Task w : t.waiters.get(stage)) {
                w.source = source;
                submit(w);
            }
            t.waiters.get(stage).clear();
        }

        /** The run is over (finished or failed, or its data could not be opened). */
        synchronized void ended(Task t) {
            for (int k = 0; k < t.waiters.size(); k++) {
                List<Task> waiting = t.waiters.get(k);
                if (waiting.isEmpty()) continue;
                Task first = waiting.removeFirst();
                first.source = null;
                for (int j = k - 1; j >= 0 && first.source == null; j--) first.source = shared.find(first.keys.get(j)).orElse(null);
                progress.addTotal(first.plannedShare - (first.source == null ? 0 : first.source.step()));
                first.waiters.get(k).addAll(waiting);
                waiting.clear();
                submit(first);
            }
            t.done.complete(null);
        }
    }

    private static void train(Task t, Worker w) {
        String name = t.variant.name();
        RunPlan plan = t.variant.plan();
        Progress progress = w.progress();
        try {
            Files.deleteIfExists(t.dir.resolve(ERROR));
            long from = t.from;
            SharedStages.Source source = t.source;
            if (source != null) {
                SharedStages.seed(t.dir, plan, source);
                w.shared().saved(source.step());
                from = source.step();
                progress.shared(name, source);
            }
            progress.variantStarted(name, from, plan.totalSteps());
            Engine engine;
            synchronized (w.setup()) {
                engine = w.engines().create(plan, w.threads());
            }
            if (engine == null) throw new IllegalStateException("the engine factory made no engine");
            boolean lend = engine.canChangeThreads();
            int[] computingOn = {w.threads()};
            if (lend) w.training().incrementAndGet();
            RunSummary summary;
            try (engine) {
                TrainingLoop.Listener steps = new TrainingLoop.Listener() {
                    @Override
                    public void onStep(StepRecord record, long totalSteps) {
                        if (record.step() < totalSteps) progress.step(name, record.step() + 1, totalSteps);
                        int share = lend ? w.share() : computingOn[0];
                        if (share != computingOn[0]) {
                            engine.setThreads(share);
                            computingOn[0] = share;
                        }
                    }

                    @Override
                    public void onCheckpoint(RunDirectory.Checkpoint checkpoint) {
                        String stage = checkpoint.state().stageEnd();
                        if (stage == null) return;
                        for (Stage s : plan.stages()) {
                            if (s.end() != checkpoint.state().step() || !s.name().equals(stage)) continue;
                            var src = new SharedStages.Source(t.dir, checkpoint.dir(), stage, s.end());
                            w.shared().register(t.keys.get(s.index()), src);
                            w.stageEnded(t, s.index(), src);
                        }
                    }
                };
                summary = new TrainingLoop(plan, engine, t.data, t.dir, steps).run(true);
            } finally {
                if (lend) w.training().decrementAndGet();
            }
            w.summaries().put(name, summary);
            progress.variantFinished(name, summary);
        } catch (Exception | LinkageError | StackOverflowError | OutOfMemoryError e) {
            fail(t, e, w.errors(), progress);
        }
    }

    /** Records a run's failure in its error.txt, in the result and with the listener. */
    private static void fail(Task t, Throwable e, Map<String, String> errors, Progress progress) {
        String message = message(e);
        errors.put(t.variant.name(), message);
        StringBuilder text = new StringBuilder(message).append('\n');
        if (!(e instanceof TrainingDivergedException)) {
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            text.append('\n').append(trace);
        }
        try {
            AtomicFiles.writeString(t.dir.resolve(ERROR), text.toString());
        } catch (IOException io) {
            errors.put(t.variant.name(), message + " (and " + t.dir.resolve(ERROR) + " could not be written: " + io.getMessage() + ")");
        }
        progress.variantFailed(t.variant.name(), errors.get(t.variant.name()));
    }

    /** What went wrong, for a person: a divergence as the loop words it, anything else with its kind. */
    static String message(Throwable e) {
        if (e instanceof TrainingDivergedException) return e.getMessage();
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + m;
    }

    private static List<StepRecord> readMetrics(Path dir) {
        try {
            return MetricsLog.read(dir.resolve("metrics.jsonl"));
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Null when {@code stored} is {@code variant}'s spec; else the first difference, as in "a.b was 1, is 2". */
    static String difference(Path stored, SweepSpec.Variant variant) {
        try {
            JsonNode was = Json.MAPPER.readTree(stored.toFile());
            JsonNode is = Json.MAPPER.readTree(Json.MAPPER.writeValueAsString(variant.spec()));
            return was.equals(is) ? null : RunDirectory.firstDifference(was, is);
        } catch (IOException e) {
            return stored + " cannot be read: " + e.getMessage();
        }
    }

    /** Passes events on one at a time and counts the sweep's steps. */
    private static final class Progress {
        private final SweepListener listener;
        private long done;
        private long total;

        Progress(SweepListener listener) {
            this.listener = listener;
        }

        synchronized void started(List<String> variants, long done, long total) {
            this.done = done;
            this.total = total;
            listener.sweepStarted(variants, done, total);
        }

        synchronized void skipped(String variant) {
            listener.variantSkipped(variant);
        }

        synchronized void addTotal(long steps) {
            total += steps;
        }

        synchronized void shared(String variant, SharedStages.Source source) {
            listener.variantShared(variant, source.runDir(), source.stage(), source.step());
        }

        synchronized void variantStarted(String variant, long from, long steps) {
            listener.variantStarted(variant, from, steps);
        }

        synchronized void step(String variant, long variantDone, long steps) {
            done++;
            listener.stepDone(variant, variantDone, done, total);
        }

        synchronized void variantFinished(String variant, RunSummary summary) {
            listener.variantFinished(variant, summary);
        }

        synchronized void variantFailed(String variant, String error) {
            listener.variantFailed(variant, error);
        }
    }
}
