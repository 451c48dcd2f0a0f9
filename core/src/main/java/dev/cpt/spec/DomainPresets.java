package dev.cpt.spec;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Data proportions by source from SlimPajama-DC's appendix (PAPER.md §2), as named presets for a
 * dataset's {@code domainPreset}. Domain names are the source labels SlimPajama carries in
 * {@code meta.redpajama_set_name} (so {@code cpt prepare}'s per-domain shards match them); sources
 * outside RedPajama keep their own names. Weights are shares of tokens (normalized on use).
 */
public final class DomainPresets {
    private DomainPresets() {}

    public static final Map<String, Map<String, Double>> PRESETS = build();

    private static Map<String, Map<String, Double>> build() {
        Map<String, Map<String, Double>> m = new TreeMap<>();
        m.put("slimpajama", redPajamaSources(52.2, 26.7, 5.2, 4.2, 4.6, 3.8, 3.3));
        m.put("redpajama", redPajamaSources(72.6, 14.4, 4.9, 2.1, 2.3, 2.0, 1.7));
        m.put("llama1", redPajamaSources(67.0, 15.0, 4.5, 4.5, 2.5, 4.5, 2.0));
        m.put("refinedweb", of("RedPajamaCommonCrawl", 100.0));
        m.put("gpt3", of("RedPajamaCommonCrawl", 60.0, "RedPajamaBook", 16.0, "RedPajamaWikipedia", 3.0, "WebText2", 22.0));
        m.put("massivetext", of("RedPajamaC4", 10.0, "RedPajamaGithub", 3.0, "RedPajamaBook", 27.0,
                "RedPajamaWikipedia", 2.0, "MassiveWeb", 48.0, "News", 10.0));
        // LBS-7B mixes SlimPajama's (deduplicated) CommonCrawl with RedPajama's own: the latter is "RedPajamaCommonCrawlRaw".
        m.put("lbs-7b", of("RedPajamaArXiv", 4.0, "RedPajamaStackExchange", 3.2, "RedPajamaGithub", 4.9,
                "RedPajamaWikipedia", 7.5, "RedPajamaBook", 4.3, "RedPajamaC4", 17.6, "RedPajamaCommonCrawl", 34.5,
                "S2orc", 3.0, "Markdown", 3.0, "RedPajamaCommonCrawlRaw", 18.0));
        return Collections.unmodifiableMap(m);
    }

    private static Map<String, Double> redPajamaSources(double cc, double c4, double github, double books, double arxiv,
                                                        double wikipedia, double stackExchange) {
        return of("RedPajamaCommonCrawl", cc, "RedPajamaC4", c4, "RedPajamaGithub", github, "RedPajamaBook", books,
                "RedPajamaArXiv", arxiv, "RedPajamaWikipedia", wikipedia, "RedPajamaStackExchange", stackExchange);
    }

    private static Map<String, Double> of(Object... pairs) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) m.put((String) pairs[i], (Double) pairs[i + 1]);
        return Collections.unmodifiableMap(m);
    }
}
