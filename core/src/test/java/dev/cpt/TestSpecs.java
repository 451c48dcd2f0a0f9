package dev.cpt;

import dev.cpt.data.ArrayTokenSource;
import dev.cpt.data.DataSources;
import dev.cpt.plan.RunPlan;
import dev.cpt.spec.SpecReader;
import java.util.HashMap;
import java.util.Map;

/** Specs and data for tests. */
public final class TestSpecs {
    private TestSpecs() {}

    public static RunPlan plan(String json) {
        return RunPlan.of(SpecReader.read(json, "test.json"));
    }

    /**
     * Sources whose token at position i is {@code base + i}, so a row's first token tells which
     * dataset and window it came from. Dataset k of {@code names} gets base {@code k · 10^7}.
     */
    public static DataSources countingData(long tokensPerDataset, String... names) {
        Map<String, ArrayTokenSource> train = new HashMap<>();
        Map<String, ArrayTokenSource> val = new HashMap<>();
        for (int k = 0; k < names.length; k++) {
            int[] t = new int[(int) tokensPerDataset];
            for (int i = 0; i < t.length; i++) t[i] = k * 10_000_000 + i;
            train.put(names[k], new ArrayTokenSource(names[k] + "/train", t));
            int[] v = new int[(int) tokensPerDataset / 4];
            for (int i = 0; i < v.length; i++) v[i] = k * 10_000_000 + 5_000_000 + i;
            val.put(names[k], new ArrayTokenSource(names[k] + "/val", v));
        }
        return new DataSources(Map.copyOf(train), Map.copyOf(val));
    }

    /** A two-stage en → de spec with the given replay clause in the second stage ("" for none). */
    public static String twoStage(long steps1, long steps2, String replay, String extra) {
        return """
            { "name": "two-stage", "seed": 11,
              "model": { "preset": "toy-xs" },
              "batch": { "sequences": 8, "seqLen": 16 },
              "datasets": { "en": { "train": "en.bin", "val": "en-val.bin" },
                            "de": { "train": "de.bin", "val": "de-val.bin" } },
              "stages": [
                { "name": "pretrain", "steps": %d, "mix": { "en": 1.0 },
                  "lr": { "type": "cosine", "max": 0.01, "min": 0.001, "warmup": 0.1 } },
                { "name": "continue", "steps": %d, "mix": { "de": 1.0 }, %s "resetOptimizer": true,
                  "lr": { "type": "cosine", "max": 0.01, "min": 0.001, "warmupSteps": 2 } } ]
              %s }
            """.formatted(steps1, steps2, replay.isEmpty() ? "" : replay + ",", extra);
    }
}
