package dev.cpt.plan;

/**
 * One source of a stage's sequences: a dataset, read as new data or as replay, with the share of
 * the stage's sequences it must supply (the shares of a stage sum to 1).
 */
public record Share(String dataset, Role role, double weight) {

    public enum Role { NEW, REPLAY }

    /** A stable name for records and checkpoints: {@code en} or {@code replay:en}. */
    public String key() {
        return role == Role.NEW ? dataset : "replay:" + dataset;
    }
}
