package dev.cpt.plan;

import dev.cpt.spec.ReplaySpec;
import java.util.List;

/**
 * A stage laid out on the global step axis: updates {@code start} to {@code end() - 1}.
 *
 * @param shares      where its sequences come from (new data and replay), weights summing to 1
 * @param replayPool  what replay shares may draw from
 */
public record Stage(int index, String name, long start, long steps, List<Share> shares, ReplaySpec.Pool replayPool,
                    BoundSchedule lr, BoundSchedule weightDecay, boolean resetOptimizer) {

    public long end() {
        return start + steps;
    }

    public boolean contains(long step) {
        return step >= start && step < end();
    }

    /** Whether the stage trains on {@code dataset} as new data (not only replays it). */
    public boolean trainsOn(String dataset) {
        return shares.stream().anyMatch(s -> s.role() == Share.Role.NEW && s.dataset().equals(dataset));
    }
}
