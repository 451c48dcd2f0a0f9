package dev.cpt.spec;

/** A named dataset: its training tokens and its validation tokens (paths, resolved by the data layer). */
public record DatasetSpec(String train, String val) {

    public void validate(String path, Problems p) {
        if (train == null && val == null) p.add(path, "give train, val, or both");
        if (train != null && train.isBlank()) p.add(Problems.child(path, "train"), "is empty");
        if (val != null && val.isBlank()) p.add(Problems.child(path, "val"), "is empty");
    }
}
