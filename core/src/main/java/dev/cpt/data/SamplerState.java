package dev.cpt.data;

import java.util.List;
import java.util.Map;

/**
 * Everything a {@link BatchSampler} needs to continue exactly where it stopped; saved with each
 * checkpoint as JSON.
 *
 * @param stage       index of the stage whose blend is under way, -1 before the first batch
 * @param newData     each dataset's new-data stream
 * @param blendCounts sequences taken from each of the stage's shares, in the stage's share order
 * @param replay      the stage's replay streams, by dataset
 */
public record SamplerState(int stage, Map<String, StreamState> newData, List<Long> blendCounts,
                           Map<String, StreamState> replay) {

    /** A stream's position: its pools, its blend's counts over domains and each domain's draws. */
    public record StreamState(List<Long> poolSizes, List<Long> blendCounts, List<Long> drawn) {
        public StreamState {
            poolSizes = List.copyOf(poolSizes);
            blendCounts = List.copyOf(blendCounts);
            drawn = List.copyOf(drawn);
        }
    }

    public SamplerState {
        newData = Map.copyOf(newData);
        blendCounts = List.copyOf(blendCounts);
        replay = Map.copyOf(replay);
    }
}
