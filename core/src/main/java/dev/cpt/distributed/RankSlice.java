package dev.cpt.distributed;

import dev.cpt.data.Batch;

/**
 * The rows of the global batch one rank trains on. Every rank fills the whole global batch from the
 * same exact-count sampler (same seed, same step: the same rows), then keeps the contiguous block
 * {@code [rank·B/N, (rank+1)·B/N)}; so at every step an N-rank run trains on exactly the sequences
 * of a one-rank run, and the averaged gradients differ only by the order of the sums. Filling the
 * whole batch costs each rank B·T token copies a step, nothing beside a forward.
 */
public record RankSlice(int rank, int worldSize) {

    public RankSlice {
        if (worldSize < 1) throw new IllegalArgumentException("the world size must be at least 1, not " + worldSize);
        if (rank < 0 || rank >= worldSize) throw new IllegalArgumentException("rank " + rank + " is outside the world of " + worldSize);
    }

    /** The rows per rank, checked: the global batch must divide evenly, or ranks would average unequal shares. */
    public int rows(int globalSequences) {
        if (globalSequences % worldSize != 0) {
            throw new IllegalArgumentException("batch.sequences " + globalSequences + " does not divide among " + worldSize
                    + " ranks; use a multiple of " + worldSize + " (the global batch is the spec's at every world size)");
        }
        return globalSequences / worldSize;
    }

    public int firstRow(int globalSequences) {
        return rank * rows(globalSequences);
    }

    /** A batch of this rank's rows, to {@link #copy} into every step. */
    public Batch newLocal(Batch global) {
        return new Batch(rows(global.sequences()), global.seqLen());
    }

    /** Copies this rank's rows of {@code global} into {@code local}. */
    public void copy(Batch global, Batch local) {
        int rows = rows(global.sequences());
        if (local.sequences() != rows || local.seqLen() != global.seqLen()) {
            throw new IllegalArgumentException("local batch " + local.sequences() + "×" + local.seqLen() + " is not this rank's "
                    + rows + "×" + global.seqLen());
        }
        int width = global.seqLen() + 1, first = firstRow(global.sequences());
        System.arraycopy(global.tokens(), first * width, local.tokens(), 0, rows * width);
        System.arraycopy(global.rowSources(), first, local.rowSources(), 0, rows);
    }
}
