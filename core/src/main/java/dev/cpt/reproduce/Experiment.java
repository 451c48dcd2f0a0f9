package dev.cpt.reproduce;

import java.util.List;

/**
 * One experiment of the paper: a sweep spec under {@code examples/paper/} ({@code id}.json) and the
 * section it reproduces.
 */
public record Experiment(String id, String section, String title) {

    /** Every experiment, in the order they run; a later one may reuse an identical run of an earlier one. */
    public static final List<Experiment> ALL = List.of(
            new Experiment("rewarm", "§6.1", "Re-warming and re-decaying the learning rate"),
            new Experiment("replay", "§6.2", "Compute-equivalent replay"),
            new Experiment("recipe", "§6.3", "The final recipe against the baselines"),
            new Experiment("no-shift", "§7.1", "Re-warming on the same data"),
            new Experiment("infinite", "§7.3", "Cosine against infinite schedules on one dataset"),
            new Experiment("iid-splits", "§7.4", "Three IID splits with optimizer resets"),
            new Experiment("ptwd", "SlimPajama-DC", "Progressive training on weight decay"));

    public String file() {
        return id + ".json";
    }

    public static Experiment byId(String id) {
        for (Experiment e : ALL) if (e.id.equals(id)) return e;
        throw new IllegalArgumentException("no experiment \"" + id + "\"; known: "
                + String.join(", ", ALL.stream().map(Experiment::id).toList()));
    }
}
