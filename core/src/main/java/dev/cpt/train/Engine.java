package dev.cpt.train;

import dev.cpt.data.Batch;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * What differs between the simulator and the torch engine; everything else (schedules, data,
 * evaluation, checkpoints, records) is the {@link TrainingLoop}'s. An engine is built for one run
 * (model shape, optimizer settings, seed) before the loop starts.
 */
public interface Engine extends AutoCloseable {

    /** One optimizer step on {@code batch} at learning rate {@code lr} and decoupled weight decay {@code weightDecay}. */
    StepResult trainStep(Batch batch, double lr, double weightDecay);

    /** Mean next-token cross-entropy (nats) on {@code batch}; no state changes. */
    double evalLoss(Batch batch);

    /** Forgets the optimizer's moments (PAPER.md resets them at each dataset boundary). */
    void resetOptimizer();

    /** Writes model and optimizer state into the (existing, empty) directory {@code dir}. */
    void save(Path dir) throws IOException;

    /** Restores what {@link #save} wrote. */
    void load(Path dir) throws IOException;

    EngineInfo info();

    /**
     * Whether this process writes the run's records and checkpoints: true but on the ranks other
     * than 0 of a multi-rank run, which train in lock-step and write nothing.
     */
    default boolean writesRecords() {
        return true;
    }

    /**
     * On a rank that does not write the checkpoint ({@link #writesRecords()} false): its part of
     * saving it, called where rank 0 calls {@link #save} into {@code engineDir} (which rank 0
     * creates; a sharded engine writes its own shard there). The default does nothing.
     */
    default void joinSave(Path engineDir) throws IOException {}

    /**
     * Whether {@link #setThreads} changes anything: true for an engine whose numbers do not depend
     * on its thread count, so that a sweep may move idle cores to it between steps.
     */
    default boolean canChangeThreads() {
        return false;
    }

    /**
     * Computes on {@code threads} threads from the next step on; called between steps, from the
     * thread that trains. Only where {@link #canChangeThreads()}; the default does nothing.
     */
    default void setThreads(int threads) {}

    /** This process's rank in a multi-rank run; 0 on one rank. */
    default int rank() {
        return 0;
    }

    /** Ranks that train this run together; 1 on one rank. */
    default int worldSize() {
        return 1;
    }

    /**
     * Each value summed over the ranks (every rank must call it, with as many values); on one rank
     * the values themselves. The loop uses it to agree on what the ranks found separately.
     */
    default double[] sumAcrossRanks(double[] values) {
        return values;
    }

    /**
     * Whether {@link #scoreTokens} works on this engine: the training loop asks before a run whose
     * spec has {@code eval.tasks} starts, so that it fails at once rather than at the first stage end.
     */
    default boolean canScoreTokens() {
        return false;
    }

    /** Whether {@link #decoder()} works on this engine (generative tasks in {@code eval.tasks} need it). */
    default boolean canDecode() {
        return false;
    }

    /**
     * Log-probabilities for scoring ({@code cpt eval}): for each sequence {@code s} (of any length
     * from 2 to the model's context length + 1), position {@code i} gets log softmax(logits at
     * {@code i})[{@code s[i + 1]}] and whether {@code s[i + 1]} is the argmax there. Rows are
     * independent: a row's scores do not depend on the other rows of the call. No state changes.
     *
     * @throws UnsupportedOperationException on an engine that cannot score yet (the default)
     */
    default List<TokenScores> scoreTokens(List<int[]> sequences) {
        throw new UnsupportedOperationException("the " + info().name() + " engine cannot score token sequences"
                + " (per-position log-probabilities for cpt eval) yet; the simulator can (--engine sim)");
    }

    /**
     * A fresh incremental decoder ({@code cpt generate}) on this engine's current weights: it takes
     * a sequence one token at a time and keeps every layer's keys and values of the tokens it has
     * seen (a KV cache), so each token costs one position's forward instead of the whole sequence's.
     * The weights must not change while it is in use.
     *
     * @throws UnsupportedOperationException on an engine that cannot decode yet (the default)
     */
    default Decoder decoder() {
        throw new UnsupportedOperationException("the " + info().name() + " engine cannot generate text yet (incremental decoding"
                + " with a KV cache, for cpt generate); the simulator can (--engine sim)");
    }

    @Override
    default void close() {}

    /**
     * Decoding one sequence from its start: {@link #append} feeds the token at position
     * {@link #length()} and returns the logits that predict the token after it, computed from the
     * cached keys and values of every earlier position. At most {@link #contextLength()} tokens fit.
     */
    interface Decoder extends AutoCloseable {

        /** The most tokens one sequence can hold: the model's context length. */
        int contextLength();

        /** Tokens fed so far. */
        int length();

        /**
         * Feeds {@code token} at position {@link #length()} and returns the next position's logits,
         * one per vocabulary entry, in an array the decoder owns and overwrites on its next call.
         *
         * @throws IllegalStateException when the context is full
         * @throws IllegalArgumentException for a token outside the model's vocabulary
         */
        float[] append(int token);

        @Override
        default void close() {}

        /** What {@link #append} refuses, the same for every engine: a full context, a token outside the vocabulary. */
        static void checkAppend(int length, int contextLength, int vocabSize, int token) {
            if (length == contextLength) throw new IllegalStateException("the context of " + contextLength + " tokens is full");
            if (token < 0 || token >= vocabSize) {
                throw new IllegalArgumentException("token " + token + " is outside the model's vocabulary of " + vocabSize);
            }
        }
    }

    /** Training loss on the step's batch (before the update) and the gradient norm before clipping. */
    record StepResult(double loss, double gradNorm) {}

    /** @param flopsPerToken training FLOPs per token (6N + 12·L·H·Q·T) */
    record EngineInfo(String name, long parameters, double flopsPerToken) {}

    /**
     * A sequence's scores, one entry per predicted position (the sequence's length − 1):
     * {@code logProbs[i]} is log P(token i + 1 | tokens 0..i); {@code greedy[i]} whether token i + 1
     * is the most likely one there (the first of equal maxima, as argmax takes it).
     */
    record TokenScores(double[] logProbs, boolean[] greedy) {}
}
