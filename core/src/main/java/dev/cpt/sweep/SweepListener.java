package dev.cpt.sweep;

import dev.cpt.metrics.RunSummary;
import java.util.List;

/**
 * Hears how a sweep goes, e.g. to draw one progress bar for it. The runner calls it from its
 * worker threads but never twice at once, so an implementation needs no locking of its own; it
 * should return quickly, as the runs wait for it.
 *
 * <p>Steps are counted over the whole sweep: {@code total} is the sum of every run's steps, and
 * {@code done} starts with what earlier sweeps finished (runs skipped, checkpoints resumed from).
 */
public interface SweepListener {

    /** Before anything runs: the runs in order, the sweep's steps and how many are done already. */
    default void sweepStarted(List<String> variants, long done, long total) {}

    /** A run an earlier sweep finished (its summary.json is there, its spec unchanged): not run again. */
    default void variantSkipped(String variant) {}

    /**
     * A run starts from another run's stage end ({@link SharedStages}) instead of training its first
     * {@code steps} steps: the records and checkpoint of {@code fromRun} up to {@code stage}'s end.
     */
    default void variantShared(String variant, java.nio.file.Path fromRun, String stage, long steps) {}

    /** A run starts training at {@code fromStep} (0, or the checkpoint it resumes from) of its {@code steps}. */
    default void variantStarted(String variant, long fromStep, long steps) {}

    /** A run made an update: {@code variantDone} of its steps, {@code done} of the sweep's {@code total}. */
    default void stepDone(String variant, long variantDone, long done, long total) {}

    default void variantFinished(String variant, RunSummary summary) {}

    /** A run failed (its data, its engine, a divergence, ...); the others go on. */
    default void variantFailed(String variant, String error) {}

    SweepListener NONE = new SweepListener() {};
}
