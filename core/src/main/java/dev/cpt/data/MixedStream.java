package dev.cpt.data;

import java.util.ArrayList;
import java.util.List;

/**
 * Windows drawn from a dataset's domains: which domain by {@link ExactBlend} over the domain
 * weights, which window by that domain's {@link WindowStream}. A plain dataset is one domain.
 * A stream's pools may be the domains' windows themselves, or positions of another stream
 * (a consumed-replay pool), which {@link #windowOf} translates.
 */
final class MixedStream {
    private final double[] weights;
    private final ExactBlend blend;
    private final WindowStream[] streams;
    private final MixedStream positionsOf; // null: pools are windows; else: pools are positions in it

    private MixedStream(double[] weights, long[] counts, WindowStream[] streams, MixedStream positionsOf) {
        this.weights = weights;
        this.blend = new ExactBlend(weights, counts);
        this.streams = streams;
        this.positionsOf = positionsOf;
    }

    /** A stream over pools of the given sizes (0 for a domain that cannot be drawn from). */
    static MixedStream over(double[] domainWeights, long[] poolSizes, long key, SamplerState.StreamState resumed, MixedStream positionsOf) {
        int n = domainWeights.length;
        double[] w = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            w[i] = poolSizes[i] > 0 ? domainWeights[i] : 0;
            sum += w[i];
        }
        if (sum == 0) throw new IllegalStateException("no domain has anything to draw");
        for (int i = 0; i < n; i++) w[i] /= sum;
        WindowStream[] s = new WindowStream[n];
        for (int i = 0; i < n; i++) {
            long drawn = resumed != null ? resumed.drawn().get(i) : 0;
            s[i] = poolSizes[i] > 0 ? new WindowStream(poolSizes[i], SplitMix.mix(key ^ SplitMix.mix(i + 1)), drawn) : null;
        }
        long[] counts = resumed != null ? resumed.blendCounts().stream().mapToLong(Long::longValue).toArray() : new long[n];
        return new MixedStream(w, counts, s, positionsOf);
    }

    /** Draws the next window: {@code {domain, window}} written into {@code out}. */
    void next(long[] out) {
        int d = blend.next();
        long i = streams[d].next();
        out[0] = d;
        out[1] = positionsOf == null ? i : positionsOf.streams[d].at(i);
    }

    /** How many windows each domain has handed out so far (the consumed pool of a later replay). */
    long[] drawn() {
        long[] d = new long[streams.length];
        for (int i = 0; i < d.length; i++) d[i] = streams[i] == null ? 0 : streams[i].drawn();
        return d;
    }

    long[] poolSizes() {
        long[] p = new long[streams.length];
        for (int i = 0; i < p.length; i++) p[i] = streams[i] == null ? 0 : streams[i].poolSize();
        return p;
    }

    SamplerState.StreamState state() {
        List<Long> counts = new ArrayList<>(), drawn = new ArrayList<>(), pools = new ArrayList<>();
        for (long c : blend.counts()) counts.add(c);
        for (long d : drawn()) drawn.add(d);
        for (long p : poolSizes()) pools.add(p);
        return new SamplerState.StreamState(pools, counts, drawn);
    }
}
