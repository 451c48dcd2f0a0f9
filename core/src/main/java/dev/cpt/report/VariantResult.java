package dev.cpt.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cpt.metrics.RunSummary;
import dev.cpt.plan.RunPlan;
import dev.cpt.record.StepRecord;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How one run of a sweep ended: its plan, what it overrode in the sweep's base, its summary (null
 * when it failed), its metrics as recorded (possibly partial when it failed) and its error.
 *
 * @param skipped whether an earlier sweep had finished it (its records were read back, it did not run)
 */
public record VariantResult(String name, Map<String, JsonNode> overrides, RunPlan plan, RunSummary summary,
                            List<StepRecord> metrics, String error, boolean skipped) {

    public VariantResult {
        overrides = overrides == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(overrides));
        metrics = metrics == null ? List.of() : List.copyOf(metrics);
    }

    public boolean failed() {
        return error != null;
    }
}
