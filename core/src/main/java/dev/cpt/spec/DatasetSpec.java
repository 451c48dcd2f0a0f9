package dev.cpt.spec;

import java.util.Map;

/**
 * A named dataset: its training tokens and its validation tokens (paths, opened by the data
 * layer). A dataset may be a weighted mixture of domain shards: {@code domains} (domain → weight)
 * or a named {@code domainPreset} (SlimPajama-DC's proportions, {@link DomainPresets}), with
 * {@code {domain}} in the paths standing for each domain's name
 * ({@code "train": "data/sp/{domain}/train.bin"}).
 */
public record DatasetSpec(String train, String val, Map<String, Double> domains, String domainPreset) {

    public static final String DOMAIN = "{domain}";

    public DatasetSpec(String train, String val) {
        this(train, val, null, null);
    }

    public void validate(String path, Problems p) {
        if (train == null && val == null) p.add(path, "give train, val, or both");
        if (train != null && train.isBlank()) p.add(Problems.child(path, "train"), "is empty");
        if (val != null && val.isBlank()) p.add(Problems.child(path, "val"), "is empty");
        if (domains != null && domainPreset != null) {
            p.add(Problems.child(path, "domains"), "give domains or domainPreset, not both");
        }
        if (domains != null) Weights.validate(Problems.child(path, "domains"), domains, p);
        if (domainPreset != null && !DomainPresets.PRESETS.containsKey(domainPreset)) {
            p.add(Problems.child(path, "domainPreset"), "unknown preset \"" + domainPreset + "\"; known: "
                    + String.join(", ", DomainPresets.PRESETS.keySet()));
        }
        boolean mixture = domains != null || domainPreset != null;
        for (String split : new String[] {"train", "val"}) {
            String value = split.equals("train") ? train : val;
            if (value == null) continue;
            if (mixture && !value.contains(DOMAIN)) {
                p.add(Problems.child(path, split), "must contain " + DOMAIN + " where each domain's name goes, as the dataset has domains");
            } else if (!mixture && value.contains(DOMAIN)) {
                p.add(Problems.child(path, split), "contains " + DOMAIN + " but the dataset names no domains or domainPreset");
            }
        }
    }

    /** Domain → weight, or null for a plain dataset. */
    public Map<String, Double> domainWeights() {
        if (domains != null) return domains;
        return domainPreset != null ? DomainPresets.PRESETS.get(domainPreset) : null;
    }

    /** The path of {@code split} ("train"/"val") for one domain. */
    public String pathOf(String split, String domain) {
        String value = split.equals("train") ? train : val;
        return value == null ? null : value.replace(DOMAIN, domain);
    }
}
