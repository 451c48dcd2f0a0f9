package dev.cpt.data;

import dev.cpt.plan.RunPlan;
import dev.cpt.plan.Share;
import dev.cpt.plan.Stage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The opened token sources of a run: each dataset's training and validation split. */
public record DataSources(Map<String, TokenSource> train, Map<String, TokenSource> val) {

    public DataSources {
        train = Map.copyOf(train);
        val = Map.copyOf(val);
    }

    /**
     * Checks that every split the plan reads is here and holds at least one window of
     * {@code seqLen + 1} tokens; the message lists every gap.
     */
    public void checkCovers(RunPlan plan) {
        int seqLen = plan.spec().batch().seqLen();
        List<String> gaps = new ArrayList<>();
        for (Stage stage : plan.stages()) {
            for (Share share : stage.shares()) {
                check(gaps, "train", share.dataset(), train.get(share.dataset()), seqLen);
            }
        }
        for (String d : plan.datasetNames()) {
            if (plan.spec().datasets().get(d).val() != null) check(gaps, "val", d, val.get(d), seqLen);
        }
        if (!gaps.isEmpty()) {
            throw new IllegalArgumentException("data does not cover the spec:\n  " + String.join("\n  ", gaps.stream().distinct().toList()));
        }
    }

    private static void check(List<String> gaps, String split, String dataset, TokenSource source, int seqLen) {
        if (source == null) {
            gaps.add("datasets." + dataset + "." + split + ": no tokens were opened for it");
        } else if (Windows.count(source, seqLen) == 0) {
            gaps.add("datasets." + dataset + "." + split + ": " + source.name() + " has " + source.length()
                    + " tokens, fewer than one sequence of " + (seqLen + 1));
        }
    }
}
