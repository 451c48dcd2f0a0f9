package dev.cpt.train;

import dev.cpt.data.Batch;
import dev.cpt.data.BatchSampler;
import dev.cpt.data.SamplerState;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Draws the next step's batch on a background thread while the engine trains on this one (a GPU
 * step then never waits for the sampler). Two buffers take turns: the engine reads one while the
 * other is filled. The sampler is touched by the background thread alone once this starts, and
 * each batch carries the sampler's state from just before it was drawn: what a checkpoint taken at
 * that step must store, so that a resumed run draws the same batches.
 */
final class BatchPrefetcher implements AutoCloseable {

    /** The batch of {@code step}, and the sampler's state before it. */
    private record Drawn(long step, Batch batch, SamplerState before) {}

    /** A draw that failed, with the state before it: the checkpoint at that step is still written. */
    private static final class DrawFailed extends RuntimeException {
        final SamplerState before;

        DrawFailed(SamplerState before, RuntimeException cause) {
            super(cause);
            this.before = before;
        }
    }

    private final BatchSampler sampler;
    private final long total;
    private final Batch[] buffers;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "cpt-batch-prefetch");
        t.setDaemon(true);
        return t;
    });
    private Future<Drawn> pending;
    private int nextBuffer;

    /** Starts drawing the batch of {@code start}; {@code total} steps in all. */
    BatchPrefetcher(BatchSampler sampler, int sequences, int seqLen, long start, long total) {
        this.sampler = sampler;
        this.total = total;
        this.buffers = new Batch[] {new Batch(sequences, seqLen), new Batch(sequences, seqLen)};
        if (start < total) draw(start);
    }

    private void draw(long step) {
        Batch into = buffers[nextBuffer];
        nextBuffer ^= 1;
        pending = thread.submit(() -> {
            SamplerState before = sampler.state();
            try {
                sampler.fill(step, into);
            } catch (RuntimeException e) {
                throw new DrawFailed(before, e);
            }
            return new Drawn(step, into, before);
        });
    }

    /** Waits for the draw of {@code step}; a failed one throws {@link DrawFailed}. */
    private Drawn await(long step) {
        if (pending == null) throw new IllegalStateException("no batch is being drawn for step " + step);
        Drawn d;
        try {
            d = pending.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while drawing the batch of step " + step, e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof DrawFailed f) throw f;
            if (e.getCause() instanceof Error err) throw err;
            throw new IllegalStateException(e.getCause());
        }
        if (d.step() != step) throw new IllegalStateException("the batch drawn is step " + d.step() + "'s, not " + step + "'s");
        return d;
    }

    /** The sampler's state before the batch of {@code step}: a checkpoint at {@code step} stores it. */
    SamplerState stateBefore(long step) {
        // Nothing in flight (the run's end: no batch follows): the sampler is idle and its state is final.
        if (pending == null) return sampler.state();
        try {
            return await(step).before();
        } catch (DrawFailed f) {
            return f.before;  // the checkpoint is written; take() then reports the failure
        }
    }

    /**
     * The batch of {@code step}, after which the next step's batch is drawn into the other buffer;
     * the returned one stays untouched until the following call.
     */
    Batch take(long step) {
        Drawn d;
        try {
            d = await(step);
        } catch (DrawFailed f) {
            // The sampler's own exception (a corrupt shard, an empty replay pool), as if drawn here.
            throw (RuntimeException) f.getCause();
        }
        pending = null;
        if (step + 1 < total) draw(step + 1);
        return d.batch();
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
