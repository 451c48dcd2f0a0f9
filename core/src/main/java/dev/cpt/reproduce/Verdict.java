package dev.cpt.reproduce;

/** What the measurements say of a claim or of one comparison behind it. */
public enum Verdict {
    REPRODUCED("reproduced"),
    NOT_REPRODUCED("not reproduced"),
    INCONCLUSIVE("inconclusive");

    private final String text;

    Verdict(String text) {
        this.text = text;
    }

    @Override
    public String toString() {
        return text;
    }

    /** A claim's verdict from its comparisons': all reproduced → reproduced; any not → not; else inconclusive. */
    static Verdict of(Iterable<Verdict> parts) {
        boolean all = true;
        for (Verdict v : parts) {
            if (v == NOT_REPRODUCED) return NOT_REPRODUCED;
            if (v != REPRODUCED) all = false;
        }
        return all ? REPRODUCED : INCONCLUSIVE;
    }
}
