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
 * <p>Each dataset has one new-data stream for the whole run, a shuffled walk over its windows: a
 * later stage that trains on it again sees windows the earlier one had not. A replay share walks
 * its own shuffled order over either the windows that earlier stages drew from that dataset
 * ({@code consumed}: the first {@code k} positions of its new-data stream, {@code k} fixed at the
 * stage's start) or all of its windows ({@code full}). Everything is keyed by the spec's seed, and
 * {@link #state()} / {@link #restore} resume it exactly.
 */
public final class BatchSampler {
    private final RunPlan plan;
    private final DataSources data;
    private final int seqLen;
    private final long seed;
    private final Map<String, WindowStream> newData = new HashMap<>();

    private int stageIndex = -1;
    private ExactBlend blend;
    private final Map<String, WindowStream> replay = new HashMap<>();

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
            TokenSource source = data.train().get(dataset);
            long window = share.role() == Share.Role.NEW
                    ? newDataStream(dataset).next()
                    : replayWindow(dataset, stage.replayPool());
            Windows.copy(source, seqLen, window, batch.tokens(), row);
            batch.rowSources()[row] = share.key();
        }
    }

    private long replayWindow(String dataset, ReplaySpec.Pool pool) {
        long i = replay.get(dataset).next();
        // A consumed pool holds positions of the new-data stream; a full pool holds windows.
        return pool == ReplaySpec.Pool.CONSUMED ? newDataStream(dataset).at(i) : i;
    }

    private WindowStream newDataStream(String dataset) {
        return newData.computeIfAbsent(dataset, d ->
                new WindowStream(Windows.count(data.train().get(d), seqLen), SplitMix.key(seed, "train:" + d), 0));
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
            SamplerState.ReplayState r = resumed != null ? resumed.replay().get(d) : null;
            long pool = r != null ? r.poolSize() : poolSize(d, stage);
            if (pool == 0) {
                throw new IllegalStateException("stage \"" + stage.name() + "\" replays \"" + d
                        + "\", but earlier stages drew no sequence from it; use replay.pool \"full\" or train on it longer");
            }
            replay.put(d, new WindowStream(pool, SplitMix.key(seed, "replay:" + stage.index() + ":" + d),
                    r != null ? r.drawn() : 0));
        }
    }

    private long poolSize(String dataset, Stage stage) {
        if (stage.replayPool() == ReplaySpec.Pool.FULL) return Windows.count(data.train().get(dataset), seqLen);
        WindowStream s = newData.get(dataset);
        return s == null ? 0 : s.drawn();
    }

    public SamplerState state() {
        Map<String, Long> drawn = new LinkedHashMap<>();
        newData.forEach((d, s) -> drawn.put(d, s.drawn()));
        List<Long> counts = new ArrayList<>();
        if (blend != null) for (long c : blend.counts()) counts.add(c);
        Map<String, SamplerState.ReplayState> r = new LinkedHashMap<>();
        replay.forEach((d, s) -> r.put(d, new SamplerState.ReplayState(s.poolSize(), s.drawn())));
        return new SamplerState(stageIndex, drawn, counts, r);
    }

    /** Continues from a saved state: the next {@link #fill} produces what it would have without the stop. */
    public void restore(SamplerState state) {
        newData.clear();
        state.drawn().forEach((d, n) -> newData.put(d,
                new WindowStream(Windows.count(data.train().get(d), seqLen), SplitMix.key(seed, "train:" + d), n)));
        stageIndex = -1;
        blend = null;
        replay.clear();
        if (state.stage() >= 0) enterStage(plan.stages().get(state.stage()), state);
    }
}
