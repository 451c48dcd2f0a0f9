package dev.cpt.data.corpus;

import dev.cpt.data.TokenSource;
import java.util.HashMap;
import java.util.Map;

/**
 * How far apart two corpora are, measured: unigram and bigram models are fit to D0's training
 * tokens, and their cross-entropy (nats per token) is taken on D0's validation tokens and on D1's.
 * The rise from the first to the second is the shift. The bigram backs off to the unigram
 * ({@code P(b|a) = (c(ab) + β·P(b)) / (c(a) + β)}, {@code β = 10}; add-one unigram), so unseen
 * tokens cost a finite, large amount.
 */
public final class NgramShift {
    private static final double BETA = 10;

    private final int vocab;
    private final long[] unigram;
    private final Map<Long, Integer> bigram = new HashMap<>();
    private final long total;

    /** Fits the models to at most {@code maxTokens} tokens of {@code d0}. */
    public NgramShift(TokenSource d0, int vocab, long maxTokens) {
        this.vocab = vocab;
        this.unigram = new long[vocab];
        long n = Math.min(d0.length(), maxTokens);
        int[] buf = new int[1 << 16];
        int prev = -1;
        for (long off = 0; off < n; off += buf.length) {
            int len = (int) Math.min(buf.length, n - off);
            d0.read(off, buf, 0, len);
            for (int i = 0; i < len; i++) {
                int t = buf[i];
                unigram[t]++;
                if (prev >= 0) bigram.merge(((long) prev << 32) | t, 1, Integer::sum);
                prev = t;
            }
        }
        this.total = n;
    }

    /** Cross-entropy in nats per token of the two models on (at most {@code maxTokens} of) {@code text}. */
    public record CrossEntropy(double unigram, double bigram) {}

    public CrossEntropy crossEntropy(TokenSource text, long maxTokens) {
        long n = Math.min(text.length(), maxTokens);
        int[] buf = new int[1 << 16];
        double uni = 0, bi = 0;
        int prev = -1;
        long counted = 0;
        for (long off = 0; off < n; off += buf.length) {
            int len = (int) Math.min(buf.length, n - off);
            text.read(off, buf, 0, len);
            for (int i = 0; i < len; i++) {
                int t = buf[i];
                double pu = p1(t);
                uni -= Math.log(pu);
                if (prev >= 0) {
                    int cab = bigram.getOrDefault(((long) prev << 32) | t, 0);
                    double pb = (cab + BETA * pu) / (unigram[prev] + BETA);
                    bi -= Math.log(pb);
                    counted++;
                }
                prev = t;
            }
        }
        return new CrossEntropy(uni / Math.max(1, n), bi / Math.max(1, counted));
    }

    private double p1(int t) {
        return (unigram[t] + 1.0) / (total + vocab);
    }
}
