package dev.cpt.data;

/**
 * One batch of {@code sequences} rows, each {@code seqLen + 1} tokens: the model reads tokens
 * {@code [0, seqLen)} of a row and predicts tokens {@code [1, seqLen]}. Filled in place, so a
 * training loop allocates none per step.
 */
public final class Batch {
    private final int sequences;
    private final int seqLen;
    private final int[] tokens;
    private final String[] rowSources;

    public Batch(int sequences, int seqLen) {
        this.sequences = sequences;
        this.seqLen = seqLen;
        this.tokens = new int[sequences * (seqLen + 1)];
        this.rowSources = new String[sequences];
    }

    public int sequences() {
        return sequences;
    }

    public int seqLen() {
        return seqLen;
    }

    /** Row-major, {@code seqLen + 1} tokens a row. */
    public int[] tokens() {
        return tokens;
    }

    public int input(int row, int position) {
        return tokens[row * (seqLen + 1) + position];
    }

    public int target(int row, int position) {
        return tokens[row * (seqLen + 1) + position + 1];
    }

    /** Which share ({@code en}, {@code replay:en}) each row came from. */
    public String[] rowSources() {
        return rowSources;
    }
}
