package dev.cpt.data;

/**
 * A token source cut into training windows of {@code seqLen + 1} tokens (inputs plus the next-token
 * targets): window {@code w} starts at token {@code w · seqLen}, so consecutive windows share one
 * token and every token but the last is a target exactly once per pass.
 */
public final class Windows {
    private Windows() {}

    public static long count(TokenSource source, int seqLen) {
        return Math.max(0, (source.length() - 1) / seqLen);
    }

    /** Copies window {@code w} into row {@code row} of a batch buffer. */
    public static void copy(TokenSource source, int seqLen, long w, int[] dst, int row) {
        source.read(w * seqLen, dst, row * (seqLen + 1), seqLen + 1);
    }
}
