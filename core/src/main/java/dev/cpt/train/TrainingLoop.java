package dev.cpt.train;

import dev.cpt.data.Batch;
import dev.cpt.data.BatchSampler;
import dev.cpt.data.DataSources;
import dev.cpt.data.ValidationSet;
import dev.cpt.metrics.EvalPoint;
import dev.cpt.metrics.RunSummary;
import dev.cpt.plan.RunPlan;
import dev.cpt.plan.Stage;
import dev.cpt.record.AtomicFiles;
import dev.cpt.record.CheckpointManifest;
import dev.cpt.record.LoopState;
import dev.cpt.record.MetricsLog;
import dev.cpt.record.RunDirectory;
import dev.cpt.record.StepRecord;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The one training loop both engines run (DESIGN.md, "The flow of one run"). Read top to bottom,
 * one step is: evaluate if due (and, at the start and at stage ends, score the spec's eval.tasks);
 * checkpoint if due; at a stage's start reset the optimizer if the stage asks; take lr and weight
 * decay from the schedules and a batch from the sampler; train.
 * The sampler draws each batch on a background thread during the step before ({@link BatchPrefetcher}).
 */
public final class TrainingLoop {

    /** Hears about progress, e.g. to draw a progress bar. */
    public interface Listener {
        default void onStep(StepRecord record, long totalSteps) {}

        default void onCheckpoint(RunDirectory.Checkpoint checkpoint) {}

        /** Something the user should know that does not stop the run (a damaged checkpoint passed over). */
        default void onWarning(String message) {
            System.err.println("warning: " + message);
        }
    }

    private final RunPlan plan;
    private final Engine engine;
    private final DataSources data;
    private final Path runDir;
    private final Listener listener;
    /** The spec's eval.tasks as given, or null to read them with the tokenizer the data records. */
    private final BenchmarkTasks givenTasks;

    public TrainingLoop(RunPlan plan, Engine engine, DataSources data, Path runDir, Listener listener) {
        this(plan, engine, data, runDir, listener, null);
    }

    /**
     * With {@code tasks}, the spec's {@code eval.tasks} read with a tokenizer of the caller's
     * choosing; without (null), a run with eval.tasks reads them with the tokenizer its token files record.
     */
    public TrainingLoop(RunPlan plan, Engine engine, DataSources data, Path runDir, Listener listener, BenchmarkTasks tasks) {
        this.plan = plan;
        this.engine = engine;
        this.data = data;
        this.runDir = runDir;
        this.listener = listener == null ? new Listener() {} : listener;
        this.givenTasks = tasks;
    }

    /**
     * Runs the plan to its end and writes {@code summary.json}. With {@code resume}, continues from
     * the run directory's latest checkpoint (or starts, if it has none) and produces exactly the
     * records an uninterrupted run would.
     */
    public RunSummary run(boolean resume) throws IOException {
        // Benchmarks are checked before anything is written: an engine that cannot score fails now, not at the first stage end.
        BenchmarkTasks tasks = !plan.spec().eval().hasTasks() ? null
                : givenTasks != null ? givenTasks : BenchmarkTasks.forRun(plan.spec(), data);
        if (tasks != null) tasks.requireEngine(engine);
        // A multi-rank run's other ranks train in lock-step with rank 0 and read its checkpoints, writing nothing.
        boolean writer = engine.writesRecords();
        RunDirectory dir = !writer ? RunDirectory.readOnly(runDir)
                : resume ? RunDirectory.resume(runDir, plan.spec()) : RunDirectory.create(runDir, plan.spec());
        BatchSampler sampler = new BatchSampler(plan, data);
        Map<String, ValidationSet> validation = validationSets();
        int sequences = plan.spec().batch().sequences();
        int seqLen = plan.spec().batch().seqLen();
        Batch evalBatch = new Batch(sequences, seqLen);
        long total = plan.totalSteps();

        long start = 0;
        Optional<RunDirectory.Checkpoint> last = resume ? newestGoodCheckpoint(dir) : Optional.empty();
        if (last.isPresent()) {
            engine.load(last.get().engineDir());
            sampler.restore(last.get().state().sampler());
            start = last.get().state().step();
        }
        List<EvalPoint> evals = new ArrayList<>();
        // Benchmark scores by step. A resumed run finds those of the steps before its checkpoint in the records (the
        // checkpoint's own step, where due, is scored again on the restored weights, as its validation loss is).
        Map<Long, Map<String, Map<String, Double>>> taskScores = new LinkedHashMap<>();
        for (StepRecord r : writer ? MetricsLog.truncate(dir.metrics(), start) : List.<StepRecord>of()) {
            if (r.val() != null) evals.add(new EvalPoint(r.step(), r.val()));
            if (r.tasks() != null) taskScores.put(r.step(), r.tasks());
        }

        long wallStart = System.nanoTime();
        try (MetricsLog log = writer ? MetricsLog.append(dir.metrics()) : MetricsLog.discarding();
             BatchPrefetcher batches = new BatchPrefetcher(sampler, sequences, seqLen, start, total)) {
            for (long step = start; ; step++) {
                Map<String, Double> val = evalDue(step) ? evaluate(validation, evalBatch) : null;
                if (val != null) {
                    for (var e : val.entrySet()) {
                        if (!Double.isFinite(e.getValue())) {
                            log.flush();
                            throw diverged(dir, step, "validation loss on \"" + e.getKey() + "\" is " + e.getValue());
                        }
                    }
                    evals.add(new EvalPoint(step, val));
                }
                // Every rank scores (an engine's forward may be collective); only rank 0 writes the scores.
                Map<String, Map<String, Double>> scores = tasks != null && (step == 0 || endingAt(step) != null) ? tasks.score(engine) : null;
                if (scores != null) taskScores.put(step, scores);
                if (step > start && checkpointDue(step) && !writer) {
                    engine.joinSave(dir.engineDirBeingWritten(step));
                } else if (step > start && checkpointDue(step)) {
                    log.flush();
                    Stage ending = endingAt(step);
                    var ckpt = dir.writeCheckpoint(new LoopState(step, batches.stateBefore(step), ending == null ? null : ending.name()),
                            engine::save, plan.spec().checkpoint().keep());
                    listener.onCheckpoint(ckpt);
                }
                Stage stage = plan.stageAt(step);
                if (step == total) {
                    StepRecord end = new StepRecord(step, stage.name(), step * plan.tokensPerStep(), null, null, null, null, val, null, scores);
                    log.write(end);
                    listener.onStep(end, total);
                    break;
                }
                if (step == stage.start() && stage.resetOptimizer() && step > 0) engine.resetOptimizer();

                double lr = plan.lrAt(step);
                double wd = plan.weightDecayAt(step);
                long t0 = System.nanoTime();
                Engine.StepResult result = engine.trainStep(batches.take(step), lr, wd);
                double seconds = (System.nanoTime() - t0) / 1e9;
                if (!Double.isFinite(result.loss()) || !Double.isFinite(result.gradNorm())) {
                    log.flush();
                    throw diverged(dir, step, "training loss " + result.loss() + ", gradient norm " + result.gradNorm()
                            + " (stage \"" + stage.name() + "\", lr " + lr + ")");
                }
                StepRecord record = new StepRecord(step, stage.name(), step * plan.tokensPerStep(), lr, wd,
                        result.loss(), result.gradNorm(), val, plan.tokensPerStep() / seconds, scores);
                log.write(record);
                listener.onStep(record, total);
            }
        }
        RunSummary summary = RunSummary.compute(plan, evals, taskScores, (System.nanoTime() - wallStart) / 1e9);
        if (writer) AtomicFiles.writeJson(dir.summary(), summary);
        return summary;
    }

    /**
     * The newest checkpoint whose files all match its manifest. A damaged one is named in a warning
     * and passed over for the one before it. The ranks of a multi-rank run split the files between
     * them (file i is checked by rank i mod N, so each rank reads 1/N of the bytes) and agree on the
     * outcome through one sum; each rank sees the same directories, which nothing writes meanwhile.
     */
    private Optional<RunDirectory.Checkpoint> newestGoodCheckpoint(RunDirectory dir) throws IOException {
        List<Path> candidates = dir.checkpointDirectories();
        List<String> passedOver = new ArrayList<>();
        for (int c = candidates.size() - 1; c >= 0; c--) {
            Path candidate = candidates.get(c);
            String problem = damage(candidate);
            if (problem == null) {
                RunDirectory.Checkpoint good = RunDirectory.readCheckpoint(candidate);
                if (!passedOver.isEmpty() && engine.writesRecords()) {
                    listener.onWarning(String.join("; ", passedOver) + "; resuming from " + candidate.getFileName()
                            + " (step " + good.state().step() + ") instead");
                }
                return Optional.of(good);
            }
            passedOver.add("checkpoint " + candidate + " is damaged (" + problem + ")");
        }
        if (passedOver.isEmpty()) return Optional.empty();
        throw new IOException(String.join("; ", passedOver) + "; no good checkpoint is left to resume from"
                + " (move the damaged ones away to start the run over)");
    }

    /** What is wrong with a checkpoint's files, as every rank agrees; null if nothing. */
    private String damage(Path checkpoint) throws IOException {
        List<CheckpointManifest.Entry> files;
        try {
            Optional<CheckpointManifest> manifest = CheckpointManifest.read(checkpoint);
            if (manifest.isEmpty()) {
                // Written before cpt kept manifests: only that its loop state reads can be checked.
                RunDirectory.readCheckpoint(checkpoint);
                return null;
            }
            files = manifest.get().entries();
        } catch (IOException unreadable) {
            return unreadable.getMessage(); // every rank reads the same manifest and finds the same
        }
        int rank = engine.rank(), ranks = engine.worldSize();
        double[] damage = new double[files.size()]; // a Damage code per file, 0 if sound; one rank checks each
        String[] what = new String[files.size()];
        for (int i = rank; i < files.size(); i += ranks) {
            Optional<CheckpointManifest.Problem> p = CheckpointManifest.problem(checkpoint, files.get(i));
            if (p.isPresent()) {
                damage[i] = p.get().damage().code();
                what[i] = p.get().message();
                if (!engine.writesRecords()) System.err.println("rank " + rank + ": checkpoint " + checkpoint + ": " + what[i]);
            }
        }
        damage = engine.sumAcrossRanks(damage);
        List<String> found = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            if (damage[i] == 0) continue;
            // The files this rank checked it can tell in full; of the others, what their rank found.
            found.add(what[i] != null ? what[i] : CheckpointManifest.Damage.ofCode((int) damage[i]).describe(files.get(i).path())
                    + " (found by rank " + (i % ranks) + ")");
        }
        return found.isEmpty() ? null : String.join(", ", found);
    }

    private Map<String, ValidationSet> validationSets() {
        Map<String, ValidationSet> sets = new LinkedHashMap<>();
        var batch = plan.spec().batch();
        for (String d : plan.datasetNames()) {
            if (plan.spec().datasets().get(d).val() == null) continue;
            sets.put(d, new ValidationSet(data.val(d), batch.sequences(), batch.seqLen(), plan.spec().eval().batches()));
        }
        return sets;
    }

    private Map<String, Double> evaluate(Map<String, ValidationSet> sets, Batch batch) {
        Map<String, Double> losses = new LinkedHashMap<>();
        for (var e : sets.entrySet()) {
            double sum = 0;
            ValidationSet set = e.getValue();
            for (int b = 0; b < set.batches(); b++) {
                set.fill(b, batch);
                sum += engine.evalLoss(batch);
            }
            losses.put(e.getKey(), sum / set.batches());
        }
        return losses;
    }

    private boolean evalDue(long step) {
        return step % plan.spec().eval().every() == 0 || endingAt(step) != null || RunSummary.inWindow(plan, step);
    }

    private boolean checkpointDue(long step) {
        long every = plan.spec().checkpoint().every();
        return endingAt(step) != null || (every > 0 && step % every == 0);
    }

    private Stage endingAt(long step) {
        for (Stage s : plan.stages()) if (s.end() == step) return s;
        return null;
    }

    private static TrainingDivergedException diverged(RunDirectory dir, long step, String what) throws IOException {
        String kept = dir.latestCheckpoint().map(c -> "the last good checkpoint is " + c.dir())
                .orElse("no checkpoint was written yet");
        return new TrainingDivergedException("the run diverged at step " + step + ": " + what + "; " + kept);
    }
}
