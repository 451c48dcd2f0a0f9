package dev.cpt.eval;

import dev.cpt.data.tokenize.Tokenizer;
import dev.cpt.train.Engine;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * lm-evaluation-harness's loglikelihood requests on a cpt engine: the (context, continuation)
 * split of {@code _encode_pair}, the left truncation and the sum over the continuation of
 * {@code _loglikelihood_tokens}, batched.
 */
public final class ContinuationScorer {

    /** Scores token sequences; {@link Engine#scoreTokens} is one. */
    @FunctionalInterface
    public interface SequenceScorer {
        List<Engine.TokenScores> score(List<int[]> sequences);
    }

    public record Request(String context, String continuation) {}

    /** A request's log-likelihood (nats, summed over the continuation's tokens) and whether every token was the argmax. */
    public record Loglikelihood(double logLikelihood, boolean greedy) {}

    public record Encoded(int[] context, int[] continuation) {}

    /** A request that cannot be scored; {@link #request()} is its index in the list given to {@link #score}. */
    public static final class RequestException extends IllegalArgumentException {
        private final int request;

        RequestException(int request, String message) {
            super(message);
            this.request = request;
        }

        public int request() {
            return request;
        }
    }

    private final Tokenizer tokenizer;
    private final SequenceScorer scorer;
    private final int maxLength;
    private final int batchSize;

    /** @param maxLength the model's context length: the longest input it is fed */
    public ContinuationScorer(Tokenizer tokenizer, SequenceScorer scorer, int maxLength, int batchSize) {
        if (maxLength < 1) throw new IllegalArgumentException("the model's context length must be at least 1, not " + maxLength);
        if (batchSize < 1) throw new IllegalArgumentException("the batch size must be at least 1, not " + batchSize);
        this.tokenizer = tokenizer;
        this.scorer = scorer;
        this.maxLength = maxLength;
        this.batchSize = batchSize;
    }

    /**
     * The harness's split. Trailing whitespace of the context moves to the front of the
     * continuation (so " Paris" stays one token's worth of text); the continuation's tokens are
     * those of context + continuation after as many tokens as the context alone encodes to (a
     * merge across the boundary lands in the continuation). An empty context is the end-of-text
     * token, the harness's prefix token, and the continuation encoded alone.
     */
    public static Encoded encode(Tokenizer tokenizer, String context, String continuation) {
        if (context.isEmpty()) return new Encoded(new int[] {tokenizer.endOfText()}, tokenizer.encode(continuation));
        String kept = EvalTask.pythonStrip(context, false, true);
        String moved = context.substring(kept.length());
        int[] whole = tokenizer.encode(kept + moved + continuation);
        int[] ctx = tokenizer.encode(kept);
        // Clamped as Python's slice whole[len(ctx):] is, should the whole encode shorter than its prefix.
        int[] cont = Arrays.copyOfRange(whole, Math.min(ctx.length, whole.length), whole.length);
        return new Encoded(ctx, cont);
    }

    /**
     * The requests' log-likelihoods, in request order. Requests run longest first (as the harness
     * orders them) in batches of {@code batchSize}; {@code progress} hears the number done after each batch.
     *
     * @throws RequestException for a request whose continuation encodes to no tokens or to
     *     more than the model's context
     */
    public List<Loglikelihood> score(List<Request> requests, LongConsumer progress) {
        int n = requests.size();
        int[][] inputs = new int[n][];
        int[] contLength = new int[n];
        for (int i = 0; i < n; i++) {
            Request r = requests.get(i);
            Encoded e = encode(tokenizer, r.context(), r.continuation());
            if (e.continuation().length == 0) {
                throw new RequestException(i, "the continuation " + quote(r.continuation())
                        + " encodes to no tokens after the context " + quote(r.context()));
            }
            if (e.continuation().length > maxLength) {
                throw new RequestException(i, "the continuation " + quote(r.continuation()) + " is " + e.continuation().length
                        + " tokens, more than the model's context of " + maxLength + " (the harness cannot score it either)");
            }
            int[] whole = new int[e.context().length + e.continuation().length];
            System.arraycopy(e.context(), 0, whole, 0, e.context().length);
            System.arraycopy(e.continuation(), 0, whole, e.context().length, e.continuation().length);
            // The harness feeds (context + continuation)[-(max_length + 1):][:-1]; the engine takes
            // the sequence with its last token, which is only ever a target.
            inputs[i] = whole.length > maxLength + 1 ? Arrays.copyOfRange(whole, whole.length - maxLength - 1, whole.length) : whole;
            contLength[i] = e.continuation().length;
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> -inputs[i].length).thenComparingInt(i -> i));

        Loglikelihood[] out = new Loglikelihood[n];
        for (int from = 0; from < n; from += batchSize) {
            int to = Math.min(n, from + batchSize);
            List<int[]> batch = new ArrayList<>(to - from);
            for (int k = from; k < to; k++) batch.add(inputs[order[k]]);
            List<Engine.TokenScores> scores = scorer.score(batch);
            for (int k = from; k < to; k++) {
                int i = order[k];
                Engine.TokenScores s = scores.get(k - from);
                int positions = s.logProbs().length;
                double sum = 0;
                boolean greedy = true;
                for (int p = positions - contLength[i]; p < positions; p++) {
                    sum += s.logProbs()[p];
                    greedy &= s.greedy()[p];
                }
                out[i] = new Loglikelihood(sum, greedy);
            }
            progress.accept(to);
        }
        return Arrays.asList(out);
    }

    private static String quote(String s) {
        return "\"" + (s.length() > 60 ? s.substring(0, 57) + "..." : s).replace("\n", "\\n") + "\"";
    }
}
