package dev.cpt.data;

import dev.cpt.plan.RunPlan;
import dev.cpt.plan.Share;
import dev.cpt.plan.Stage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The opened token sources of a run: each dataset's training and validation split, each split
 * one source or a weighted mixture of domain sources (SlimPajama's CommonCrawl, C4, GitHub, …).
 */
public final class DataSources {

    /** One domain of a split; a plain split is one domain named "" of weight 1. */
    public record Domain(String name, TokenSource source, double weight) {}

    private final Map<String, List<Domain>> train;
    private final Map<String, List<Domain>> val;

    /** Plain splits: one source each. */
    public DataSources(Map<String, ? extends TokenSource> train, Map<String, ? extends TokenSource> val) {
        this(single(train), single(val), true);
    }

    private DataSources(Map<String, List<Domain>> train, Map<String, List<Domain>> val, boolean checked) {
        this.train = Map.copyOf(train);
        this.val = Map.copyOf(val);
    }

    /** Splits that may be weighted mixtures of domains (weights positive; normalized on use). */
    public static DataSources ofDomains(Map<String, List<Domain>> train, Map<String, List<Domain>> val) {
        for (var split : List.of(train, val)) {
            split.forEach((d, domains) -> {
                if (domains.isEmpty()) throw new IllegalArgumentException("dataset " + d + " has no domains");
                for (Domain x : domains) {
                    if (!(x.weight() > 0)) throw new IllegalArgumentException("dataset " + d + ", domain " + x.name() + ": weight must be positive");
                }
            });
        }
        Map<String, List<Domain>> t = new LinkedHashMap<>(), v = new LinkedHashMap<>();
        train.forEach((k, l) -> t.put(k, List.copyOf(l)));
        val.forEach((k, l) -> v.put(k, List.copyOf(l)));
        return new DataSources(t, v, true);
    }

    private static Map<String, List<Domain>> single(Map<String, ? extends TokenSource> sources) {
        Map<String, List<Domain>> m = new LinkedHashMap<>();
        sources.forEach((k, s) -> m.put(k, List.of(new Domain("", s, 1.0))));
        return m;
    }

    /** The training domains of {@code dataset}, or null. */
    public List<Domain> train(String dataset) {
        return train.get(dataset);
    }

    /** The validation domains of {@code dataset}, or null. */
    public List<Domain> val(String dataset) {
        return val.get(dataset);
    }

    /**
     * The tokenizer the token files record (DataOpener checked that all share one); empty for
     * sources that are not token files, such as in-memory arrays.
     */
    public java.util.Optional<dev.cpt.data.shard.TokenizerInfo> tokenizer() {
        for (var split : List.of(train, val)) {
            for (var domains : new java.util.TreeMap<>(split).values()) {
                for (Domain d : domains) {
                    if (d.source() instanceof dev.cpt.data.shard.TokenShard shard) return java.util.Optional.of(shard.tokenizer());
                }
            }
        }
        return java.util.Optional.empty();
    }

    /**
     * Checks that every split the plan reads is here and each of its sources holds at least one
     * window of {@code seqLen + 1} tokens; the message lists every gap.
     */
    public void checkCovers(RunPlan plan) {
        int seqLen = plan.spec().batch().seqLen();
        List<String> gaps = new ArrayList<>();
        for (Stage stage : plan.stages()) {
            for (Share share : stage.shares()) check(gaps, "train", share.dataset(), train.get(share.dataset()), seqLen);
        }
        for (String d : plan.datasetNames()) {
            if (plan.spec().datasets().get(d).val() != null) check(gaps, "val", d, val.get(d), seqLen);
        }
        if (!gaps.isEmpty()) {
            throw new IllegalArgumentException("data does not cover the spec:\n  " + String.join("\n  ", gaps.stream().distinct().toList()));
        }
    }

    private static void check(List<String> gaps, String split, String dataset, List<Domain> domains, int seqLen) {
        if (domains == null) {
            gaps.add("datasets." + dataset + "." + split + ": no tokens were opened for it");
            return;
        }
        for (Domain d : domains) {
            if (Windows.count(d.source(), seqLen) == 0) {
                gaps.add("datasets." + dataset + "." + split + ": " + d.source().name() + " has " + d.source().length()
                        + " tokens, fewer than one sequence of " + (seqLen + 1));
            }
        }
    }
}
