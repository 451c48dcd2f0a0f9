package dev.cpt.data;

/**
 * An endless shuffled walk over a pool of {@code poolSize} windows: each pass visits every window
 * once, in an order fresh for every pass (a {@link RandomPermutation} keyed by pass number).
 */
final class WindowStream {
    private final long poolSize;
    private final long key;
    private long drawn;
    private long pass = -1;
    private RandomPermutation order;

    WindowStream(long poolSize, long key, long drawn) {
        if (poolSize <= 0) throw new IllegalArgumentException("empty window pool");
        this.poolSize = poolSize;
        this.key = key;
        this.drawn = drawn;
    }

    /** The pool index at position {@code i} of the walk (any position, drawn or not). */
    long at(long i) {
        long p = i / poolSize;
        if (p != pass) {
            order = new RandomPermutation(poolSize, SplitMix.mix(key ^ SplitMix.mix(p)));
            pass = p;
        }
        return order.apply(i % poolSize);
    }

    long next() {
        return at(drawn++);
    }

    long drawn() {
        return drawn;
    }

    long poolSize() {
        return poolSize;
    }
}
