package dev.cpt.plan;

import dev.cpt.schedule.Schedule;

/** A schedule placed on the run's global step axis: its span starts at global step {@code origin}. */
public record BoundSchedule(Schedule schedule, long origin) {

    public double at(long globalStep) {
        return schedule.at(globalStep - origin);
    }
}
