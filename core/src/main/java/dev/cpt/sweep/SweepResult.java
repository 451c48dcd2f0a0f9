package dev.cpt.sweep;

import dev.cpt.report.VariantResult;
import java.nio.file.Path;
import java.util.List;

/**
 * What a sweep did: every run's result in the sweep's order, where it wrote them, and the steps its
 * runs did not train because they started from another run's stage end ({@link SharedStages}).
 */
public record SweepResult(Path outDir, List<VariantResult> variants, long sharedSteps) {

    public SweepResult {
        variants = List.copyOf(variants);
    }

    public SweepResult(Path outDir, List<VariantResult> variants) {
        this(outDir, variants, 0);
    }

    public List<VariantResult> failed() {
        return variants.stream().filter(VariantResult::failed).toList();
    }

    public VariantResult variant(String name) {
        for (VariantResult v : variants) if (v.name().equals(name)) return v;
        throw new IllegalArgumentException("no variant " + name);
    }

    public boolean ok() {
        return failed().isEmpty();
    }

    public Path report() {
        return outDir.resolve(SweepRunner.REPORT);
    }

    /** One line per failed run, {@code name: error} (first line of the error), or "" when none failed. */
    public String describeFailures() {
        StringBuilder b = new StringBuilder();
        for (VariantResult v : failed()) {
            String first = v.error().lines().findFirst().orElse("");
            b.append(v.name()).append(": ").append(first).append('\n');
        }
        return b.toString();
    }
}
