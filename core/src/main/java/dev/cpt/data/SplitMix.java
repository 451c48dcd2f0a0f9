package dev.cpt.data;

/** SplitMix64's finalizer: a fast, well-mixed 64-bit hash, used to derive keys from the seed. */
public final class SplitMix {
    private SplitMix() {}

    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A key for one purpose ({@code "train:en"}) under one seed; stable across JVMs. */
    public static long key(long seed, String purpose) {
        long h = mix(seed);
        for (int i = 0; i < purpose.length(); i++) h = mix(h ^ purpose.charAt(i));
        return h;
    }
}
