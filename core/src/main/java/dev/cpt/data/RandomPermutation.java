package dev.cpt.data;

/**
 * A keyed pseudo-random permutation of {@code [0, size)} that needs no memory: a balanced Feistel
 * network on the smallest even number of bits that covers {@code size}, with cycle walking to stay
 * inside the range. This lets a stream visit hundreds of millions of windows in shuffled order
 * with O(1) state, and resume from a position alone.
 */
public final class RandomPermutation {
    private static final int ROUNDS = 6;

    private final long size;
    private final int halfBits;
    private final long halfMask;
    private final long[] roundKeys = new long[ROUNDS];

    public RandomPermutation(long size, long key) {
        if (size <= 0) throw new IllegalArgumentException("size must be positive, got " + size);
        this.size = size;
        int bits = Math.max(2, 64 - Long.numberOfLeadingZeros(size - 1));
        this.halfBits = (bits + 1) / 2;
        this.halfMask = (1L << halfBits) - 1;
        long k = key;
        for (int r = 0; r < ROUNDS; r++) {
            k = SplitMix.mix(k + 0x9E3779B97F4A7C15L);
            roundKeys[r] = k;
        }
    }

    public long size() {
        return size;
    }

    /** The element at position {@code i} of the permutation. */
    public long apply(long i) {
        if (i < 0 || i >= size) throw new IndexOutOfBoundsException(i + " not in [0, " + size + ")");
        long x = i;
        do {
            x = encrypt(x);
        } while (x >= size); // cycle walking: at most a few rounds, the domain is < 4·size
        return x;
    }

    private long encrypt(long x) {
        long left = x >>> halfBits;
        long right = x & halfMask;
        for (int r = 0; r < ROUNDS; r++) {
            long next = left ^ (SplitMix.mix(right ^ roundKeys[r]) & halfMask);
            left = right;
            right = next;
        }
        return (left << halfBits) | right;
    }
}
