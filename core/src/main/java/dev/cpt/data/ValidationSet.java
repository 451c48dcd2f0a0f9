package dev.cpt.data;

import java.util.List;

/**
 * The fixed validation batches of one dataset: {@code batches × sequences} windows spread evenly
 * over its validation tokens (window {@code ⌊k·M/n⌋} for {@code k < n} of a domain's {@code M}),
 * the same at every evaluation so that successive losses are comparable. A mixture of domains
 * gives each domain its exact share of the rows, interleaved.
 */
public final class ValidationSet {
    private final int seqLen;
    private final int sequences;
    private final int batches;
    private final List<DataSources.Domain> domains;
    private final int[] domainOfRow;
    private final long[] windowOfRow;

    public ValidationSet(List<DataSources.Domain> domains, int sequences, int seqLen, int batches) {
        this.domains = domains;
        this.seqLen = seqLen;
        this.sequences = sequences;
        this.batches = batches;
        int n = batches * sequences;
        double[] w = new double[domains.size()];
        double sum = domains.stream().mapToDouble(DataSources.Domain::weight).sum();
        for (int i = 0; i < w.length; i++) {
            TokenSource s = domains.get(i).source();
            if (Windows.count(s, seqLen) == 0) {
                throw new IllegalArgumentException(s.name() + " has " + s.length() + " tokens, fewer than one sequence of " + (seqLen + 1));
            }
            w[i] = domains.get(i).weight() / sum;
        }
        this.domainOfRow = new int[n];
        ExactBlend blend = new ExactBlend(w);
        for (int j = 0; j < n; j++) domainOfRow[j] = blend.next();
        long[] rowsOf = blend.counts();
        long[] seen = new long[w.length];
        this.windowOfRow = new long[n];
        for (int j = 0; j < n; j++) {
            int d = domainOfRow[j];
            long windows = Windows.count(domains.get(d).source(), seqLen);
            windowOfRow[j] = seen[d]++ * windows / rowsOf[d];
        }
    }

    public ValidationSet(TokenSource source, int sequences, int seqLen, int batches) {
        this(List.of(new DataSources.Domain("", source, 1.0)), sequences, seqLen, batches);
    }

    public int batches() {
        return batches;
    }

    public void fill(int batchIndex, Batch batch) {
        for (int row = 0; row < sequences; row++) {
            int j = batchIndex * sequences + row;
            TokenSource source = domains.get(domainOfRow[j]).source();
            Windows.copy(source, seqLen, windowOfRow[j], batch.tokens(), row);
            batch.rowSources()[row] = source.name();
        }
    }
}
