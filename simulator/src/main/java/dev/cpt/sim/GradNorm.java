package dev.cpt.sim;

/**
 * The global L2 norm of all gradients (what torch's {@code clip_grad_norm_} clips by), summed in
 * double over fixed chunks and then over the chunks in order: the chunking does not depend on the
 * thread count, so neither does the result, to the bit.
 */
final class GradNorm {
    private static final int CHUNK = 1 << 14;

    private final double[] partial;

    GradNorm(int size) {
        partial = new double[(size + CHUNK - 1) / CHUNK];
    }

    double of(Workers w, float[] g, int size) {
        int chunks = (size + CHUNK - 1) / CHUNK;
        w.run(chunks, 1, (worker, from, to) -> {
            for (int k = from; k < to; k++) {
                double sum = 0;
                int end = Math.min(size, (k + 1) * CHUNK);
                for (int i = k * CHUNK; i < end; i++) sum += (double) g[i] * g[i];
                partial[k] = sum;
            }
        });
        double total = 0;
        for (int k = 0; k < chunks; k++) total += partial[k];
        return Math.sqrt(total);
    }

    /** torch's clipping factor: {@code min(1, clip / (norm + 1e-6))}; a clip of 0 is off. */
    static float clipFactor(double norm, double clip) {
        if (clip <= 0) return 1f;
        return (float) Math.min(1.0, clip / (norm + 1e-6));
    }
}
