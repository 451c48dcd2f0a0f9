package dev.cpt.spec;

import java.util.ArrayList;
import java.util.List;

/**
 * Collects every problem found in a spec, each tied to the JSON path of the offending value,
 * so that a user sees all of them at once rather than one per attempt.
 */
public final class Problems {

    /** One problem: where ({@code stages[1].replay.fraction}) and what. */
    public record Problem(String path, String message) {
        @Override
        public String toString() {
            return path.isEmpty() ? message : path + ": " + message;
        }
    }

    private final List<Problem> problems = new ArrayList<>();
    private final boolean readsFiles;

    public Problems() {
        this(true);
    }

    /**
     * {@code readsFiles} false: the checks that read other files (the model's init, the benchmark
     * task files) are left out, for a spec a run stored, which is read back from anywhere.
     */
    public Problems(boolean readsFiles) {
        this.readsFiles = readsFiles;
    }

    /** Whether checks that read the files a spec names are made. */
    public boolean readsFiles() {
        return readsFiles;
    }

    public void add(String path, String message) {
        problems.add(new Problem(path, message));
    }

    /** Whether a problem was already reported at {@code path} or at a value that contains it. */
    public boolean coveredBy(String path) {
        for (Problem p : problems) {
            if (path.equals(p.path()) || path.startsWith(p.path() + ".") || path.startsWith(p.path() + "[")) {
                return true;
            }
        }
        return false;
    }

    /** Adds the problem unless an earlier one (e.g. a type error) already explains this path. */
    public void addUnlessCovered(String path, String message) {
        if (!coveredBy(path)) add(path, message);
    }

    public boolean isEmpty() {
        return problems.isEmpty();
    }

    public List<Problem> all() {
        return List.copyOf(problems);
    }

    public static String child(String path, String field) {
        return path.isEmpty() ? field : path + "." + field;
    }

    public static String index(String path, int i) {
        return path + "[" + i + "]";
    }

    // --- small checks shared by the spec records -------------------------------------------

    /** Reports a missing required value; returns whether it is present. */
    public boolean require(String path, Object value) {
        if (value == null) {
            addUnlessCovered(path, "missing");
            return false;
        }
        return true;
    }

    public void finite(String path, Double value) {
        if (value != null && !Double.isFinite(value)) add(path, value + " is not a finite number");
    }

    public void within(String path, Double value, double lo, double hi) {
        if (value != null && !(value >= lo && value <= hi)) {
            add(path, format(value) + " is not within [" + format(lo) + ", " + format(hi) + "]");
        }
    }

    public void nonNegative(String path, Double value) {
        if (value != null && !(value >= 0)) add(path, format(value) + " must not be negative");
    }

    public void positive(String path, Double value) {
        if (value != null && !(value > 0)) add(path, format(value) + " must be positive");
    }

    public void positive(String path, Long value) {
        if (value != null && value <= 0) add(path, value + " must be positive");
    }

    public void nonNegative(String path, Long value) {
        if (value != null && value < 0) add(path, value + " must not be negative");
    }

    public void positive(String path, Integer value) {
        if (value != null && value <= 0) add(path, value + " must be positive");
    }

    public static String format(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
        return Double.toString(v);
    }
}
