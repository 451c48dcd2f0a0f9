package dev.cpt.data;

import java.util.List;
import java.util.Map;

/**
 * Everything a {@link BatchSampler} needs to continue exactly where it stopped; saved with each
 * checkpoint as JSON.
 *
 * @param stage       index of the stage whose blend is under way, -1 before the first batch
 * @param drawn       windows drawn so far from each dataset's new-data stream
 * @param blendCounts sequences taken from each of the stage's shares, in the stage's share order
 * @param replay      the stage's replay streams, by dataset
 */
public record SamplerState(int stage, Map<String, Long> drawn, List<Long> blendCounts, Map<String, ReplayState> replay) {

    /** A replay stream: the size of its pool and how many windows it has drawn. */
    public record ReplayState(long poolSize, long drawn) {}

    public SamplerState {
        drawn = Map.copyOf(drawn);
        blendCounts = List.copyOf(blendCounts);
        replay = Map.copyOf(replay);
    }
}
