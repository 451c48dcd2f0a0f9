package dev.cpt.eval;

import dev.cpt.data.Batch;
import dev.cpt.data.TokenSource;
import dev.cpt.data.ValidationSet;
import dev.cpt.data.Windows;
import java.util.function.LongConsumer;
import java.util.function.ToDoubleFunction;

/**
 * Validation loss on token data ({@code cpt eval --loss NAME=DATA}): the mean next-token
 * cross-entropy over windows of {@code seqLen + 1} tokens, {@code batchSize} windows a forward pass.
 * Either every window of the data (window {@code w} starts at token {@code w · seqLen}, as the
 * training windows do), or, with {@code batches}, the run's own validation batches
 * ({@link ValidationSet}: {@code batches × batchSize} windows spread evenly), so that a checkpoint's
 * loss is the one its run recorded for the same data, sequences, length and batches.
 */
public final class TokenLoss {
    private TokenLoss() {}

    /**
     * @param loss mean cross-entropy per predicted token (nats)
     * @param windows the windows scored, each {@code seqLen} predicted tokens
     * @param totalWindows the windows the data holds
     * @param batches the number of validation batches asked for, or null for every window
     */
    public record Result(String name, double loss, long windows, long totalWindows, int seqLen, int batchSize, Integer batches) {
        public double perplexity() {
            return Math.exp(loss);
        }

        public long tokens() {
            return windows * seqLen;
        }
    }

    /** How many windows {@link #measure} scores: {@code progress} counts up to it. */
    public static long windowsToScore(TokenSource source, int seqLen, int batchSize, Integer batches) {
        return batches == null ? Windows.count(source, seqLen) : (long) batches * batchSize;
    }

    /**
     * Measures the loss of {@code source} with {@code evalLoss} (an engine's mean loss on a batch);
     * {@code progress} hears the windows done.
     *
     * @throws IllegalArgumentException when the data holds no window of {@code seqLen + 1} tokens
     */
    public static Result measure(String name, TokenSource source, int seqLen, int batchSize, Integer batches,
                                 ToDoubleFunction<Batch> evalLoss, LongConsumer progress) {
        long total = Windows.count(source, seqLen);
        if (total == 0) {
            throw new IllegalArgumentException(source.name() + " has " + source.length() + " tokens, fewer than one window of "
                    + (seqLen + 1));
        }
        if (batches != null) {
            // The run's validation batches: each a mean over its rows, the loss the mean over the batches (TrainingLoop's).
            ValidationSet set = new ValidationSet(source, batchSize, seqLen, batches);
            Batch batch = new Batch(batchSize, seqLen);
            double sum = 0;
            for (int b = 0; b < batches; b++) {
                set.fill(b, batch);
                sum += evalLoss.applyAsDouble(batch);
                progress.accept((long) (b + 1) * batchSize);
            }
            return new Result(name, sum / batches, (long) batches * batchSize, total, seqLen, batchSize, batches);
        }
        // Every window; a shorter last batch weighs by its rows, so the loss is the mean over all windows' tokens.
        double sum = 0;
        Batch full = new Batch(batchSize, seqLen);
        for (long w = 0; w < total; w += batchSize) {
            int rows = (int) Math.min(batchSize, total - w);
            Batch batch = rows == batchSize ? full : new Batch(rows, seqLen);
            for (int r = 0; r < rows; r++) {
                Windows.copy(source, seqLen, w + r, batch.tokens(), r);
                batch.rowSources()[r] = source.name();
            }
            sum += evalLoss.applyAsDouble(batch) * rows;
            progress.accept(w + rows);
        }
        return new Result(name, sum / total, total, total, seqLen, batchSize, null);
    }
}
