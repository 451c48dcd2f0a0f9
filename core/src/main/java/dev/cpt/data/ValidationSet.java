package dev.cpt.data;

/**
 * The fixed validation batches of one dataset: {@code batches × sequences} windows spread evenly
 * over its validation tokens (window {@code ⌊j·M/n⌋} for {@code j < n} of {@code M}), the same at
 * every evaluation so that successive losses are comparable.
 */
public final class ValidationSet {
    private final TokenSource source;
    private final int seqLen;
    private final int sequences;
    private final int batches;
    private final long windows;

    public ValidationSet(TokenSource source, int sequences, int seqLen, int batches) {
        this.source = source;
        this.seqLen = seqLen;
        this.sequences = sequences;
        this.batches = batches;
        this.windows = Windows.count(source, seqLen);
        if (windows == 0) {
            throw new IllegalArgumentException(source.name() + " has " + source.length()
                    + " tokens, fewer than one sequence of " + (seqLen + 1));
        }
    }

    public int batches() {
        return batches;
    }

    public void fill(int batchIndex, Batch batch) {
        long n = (long) batches * sequences;
        for (int row = 0; row < sequences; row++) {
            long j = (long) batchIndex * sequences + row;
            long w = j * windows / n;
            Windows.copy(source, seqLen, w, batch.tokens(), row);
            batch.rowSources()[row] = source.name();
        }
    }
}
