package dev.cpt.data;

import dev.cpt.plan.RunPlan;
import dev.cpt.plan.Share;
import dev.cpt.plan.Stage;
import dev.cpt.spec.ReplaySpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds each training batch from the current stage's shares: new data by the mix weights and
 * compute-equivalent replay (PAPER.md §6.2), interleaved by {@link ExactBlend} so the realized
 * counts track their targets within one sequence at every point of the stage.
 *
 * <p>Each dataset has one new-data stream for the whole run, a shuffled walk over its windows
 * (over each domain's, blended exactly by the domain weights): a later stage that trains on it
 * again sees windows the earlier one had not. A replay share walks its own shuffled order over
 * either the windows earlier stages drew from that dataset ({@code consumed}: per domain, the
 * first {@code k} positions of its new-data stream, {@code k} fixed at the stage's start) or all
 * of its windows ({@code full}). Everything is keyed by the spec's seed, and {@link #state()} /
 * {@link #restore} resume it exactly.
 */
public final class BatchSampler {
    private final RunPlan plan;
    private final DataSources data;
    private final int seqLen;
    private final long seed;
    private final Map<String, MixedStream> newData = new HashMap<>();
    private final Map<String, MixedStream> replay = new HashMap<>();
    private final long[] drawn = new long[2];

    private int stageIndex = -1;
    private ExactBlend blend;

    public BatchSampler(RunPlan plan, DataSources data) {
        data.checkCovers(plan);
        this.plan = plan;
        this.data = data;
        this.seqLen = plan.spec().batch().seqLen();
        this.seed = plan.spec().seed();
    }

    /** Fills {@code batch} with the sequences of global step {@code step}; steps must come in order. */
    public void fill(long step, Batch batch) {
        Stage stage = plan.stageAt(step);
        if (stage.index() != stageIndex) enterStage(stage, null);
        List<Share> shares = stage.shares();
        for (int row = 0; row < batch.sequences(); row++) {
            Share share = shares.get(blend.next());
            String dataset = share.dataset();
            MixedStream stream = share.role() == Share.Role.NEW ? newDataStream(dataset, null) : replay.get(dataset);
            stream.next(drawn);
            TokenSource source = data.train(dataset).get((int) drawn[0]).source();
            Windows.copy(source, seqLen, drawn[1], batch.tokens(), row);
            batch.rowSources()[row] = share.key();
        }
    }

    private MixedStream newDataStream(String dataset, SamplerState.StreamState resumed) {
        MixedStream s = newData.get(dataset);
        if (s == null) {
            s = MixedStream.over(weights(dataset), windowCounts(dataset), SplitMix.key(seed, "train:" + dataset), resumed, null);
            newData.put(dataset, s);
        }
        return s;
    }

    private double[] weights(String dataset) {
        return data.train(dataset).stream().mapToDouble(DataSources.Domain::weight).toArray();
    }

    private long[] windowCounts(String dataset) {
        return data.train(dataset).stream().mapToLong(d -> Windows.count(d.source(), seqLen)).toArray();
    }

    private void enterStage(Stage stage, SamplerState resumed) {
        stageIndex = stage.index();
        double[] weights = stage.shares().stream().mapToDouble(Share::weight).toArray();
        blend = resumed == null
                ? new ExactBlend(weights)
                : new ExactBlend(weights, resumed.blendCounts().stream().mapToLong(Long::longValue).toArray());
        replay.clear();
        for (Share share : stage.shares()) {
            if (share.role() != Share.Role.REPLAY) continue;
            String d = share.dataset();
            SamplerState.StreamState r = resumed != null ? resumed.replay().get(d) : null;
            boolean consumed = stage.replayPool() == ReplaySpec.Pool.CONSUMED;
            MixedStream source = consumed ? newData.get(d) : null;
            long[] pools = r != null ? r.poolSizes().stream().mapToLong(Long::longValue).toArray()
                    : consumed ? (source == null ? new long[weights(d).length] : source.drawn()) : windowCounts(d);
            if (java.util.Arrays.stream(pools).sum() == 0) {
                throw new IllegalStateException("stage \"" + stage.name() + "\" replays \"" + d
                        + "\", but earlier stages drew no sequence from it; use replay.pool \"full\" or train on it longer");
            }
            long key = SplitMix.key(seed, "replay:" + stage.index() + ":" + d);
            replay.put(d, MixedStream.over(weights(d), pools, key, r, consumed ? newDataStream(d, null) : null));
        }
    }

    public SamplerState state() {
        Map<String, SamplerState.StreamState> streams = new LinkedHashMap<>();
        newData.forEach((d, s) -> streams.put(d, s.state()));
        List<Long> counts = new ArrayList<>();
        if (blend != null) for (long c : blend.counts()) counts.add(c);
        Map<String, SamplerState.StreamState> r = new LinkedHashMap<>();
        replay.forEach((d, s) -> r.put(d, s.state()));
        return new SamplerState(stageIndex, streams, counts, r);
    }

    /** Continues from a saved state: the next {@link #fill} produces what it would have without the stop. */
    public void restore(SamplerState state) {
        newData.clear();
        state.newData().forEach(this::newDataStream);
        stageIndex = -1;
        blend = null;
        replay.clear();
        if (state.stage() >= 0) enterStage(plan.stages().get(state.stage()), state);
    }
}
