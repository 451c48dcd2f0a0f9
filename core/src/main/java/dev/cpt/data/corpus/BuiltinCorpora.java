package dev.cpt.data.corpus;

import dev.cpt.data.SplitMix;
import dev.cpt.data.shard.CptTokensFormat;
import dev.cpt.data.shard.ShardWriter;
import dev.cpt.data.shard.TokenShard;
import dev.cpt.data.shard.TokenizerInfo;
import dev.cpt.data.tokenize.Tokenizer;
import dev.cpt.record.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * The simulator's real-text default: three dataset pairs built from Debian-packaged text.
 * <ul>
 *   <li>{@code en}: the GCIDE dictionary (dict-gcide) — D0 of the weak and strong pairs;</li>
 *   <li>{@code en-b}: English fortunes and manual pages (fortunes, manpages) — the weak shift's D1;</li>
 *   <li>{@code de}: German fortunes and manual pages (fortunes-de, manpages-de) — the strong shift's D1;</li>
 *   <li>{@code en-1}, {@code en-2}, {@code en-3}: {@code en} cut into three IID splits by document — no shift.</li>
 * </ul>
 * Without those packages, seeded synthetic languages stand in (a base language, one sharing most of
 * its words, one sharing few, over other letters), and the data card says so. Each pair's shift is
 * measured ({@link NgramShift}) and written to {@code corpora.json} and {@code README.md}.
 */
public final class BuiltinCorpora {

    /** @param maxBytesPerDataset documents are sampled (by a seeded hash) down to about this much text */
    public record Options(Path out, Tokenizer tokenizer, long seed, long maxBytesPerDataset, double valFraction,
                          boolean synthetic, boolean overwrite) {}

    public record DatasetCard(String description, long documents, long trainTokens, long valTokens) {}

    /**
     * A pair's measured shift. {@code onD0}/{@code onD1}: the D0-fit models' cross-entropy on each
     * validation set; {@code bigramShift}/{@code unigramShift}: the rise from D0 to D1 (what forgetting
     * is measured against); {@code ownD1}: models fit to D1 itself on D1, so {@code bigramExcess} =
     * {@code onD1 − ownD1} estimates the divergence of D1 from D0, which is never negative even
     * where D1 is easier text than D0.
     */
    public record PairCard(String d0, String d1, NgramShift.CrossEntropy onD0, NgramShift.CrossEntropy onD1,
                           NgramShift.CrossEntropy ownD1, double unigramShift, double bigramShift, double bigramExcess) {}

    public record Card(String source, TokenizerInfo tokenizer, long seed, long maxBytesPerDataset, double valFraction,
                       Map<String, DatasetCard> datasets, Map<String, PairCard> pairs) {}

    private static final String[] SPLITS = {"en-1", "en-2", "en-3"};

    private BuiltinCorpora() {}

    /**
     * Sources from Debian's packages under {@code root} ({@code /} where they are installed, else
     * the directory they were unpacked into), or null when one of them is missing. D0 is a broad English mix
     * (dictionary, manual pages, half of the fortune files); the weak shift's D1 is the other half of
     * the English fortune files (a genre D0 has, on other topics); the strong shift's D1 is German
     * fortunes and manual pages (D0's genres, another language).
     */
    static Map<String, List<TextSource>> debianSources(Path root) {
        Map<String, List<TextSource>> m = new LinkedHashMap<>();
        m.put("en", List.of(new GcideDictionary(root.resolve("usr/share/dictd/gcide.dict.dz")), new ManPages(root, "manpages"),
                new FortuneFiles(root, "fortunes", 0, 2)));
        m.put("en-b", List.of(new FortuneFiles(root, "fortunes", 1, 2)));
        m.put("de", List.of(new FortuneFiles(root, "fortunes-de", 0, 1), new ManPages(root, "manpages-de")));
        for (List<TextSource> sources : m.values()) {
            for (TextSource s : sources) if (!s.available()) return null;
        }
        return m;
    }

    /** Whether every Debian source's files are there under {@code root}. */
    static boolean presentUnder(Path root) {
        return debianSources(root) != null;
    }

    static Map<String, List<TextSource>> syntheticSources(long seed, long maxBytes) {
        long docs = Math.max(100, maxBytes / 600);
        SyntheticLanguage base = SyntheticLanguage.base("en", 4000, seed, docs);
        Map<String, List<TextSource>> m = new LinkedHashMap<>();
        m.put("en", List.of(base));
        m.put("en-b", List.of(SyntheticLanguage.derive("en-b", base, 0.6, false, true, seed + 1, docs)));
        m.put("de", List.of(SyntheticLanguage.derive("de", base, 0.10, true, false, seed + 2, docs)));
        return m;
    }

    /** Which packages the Debian corpora need (for messages and .ci/run). */
    public static final String PACKAGES = "dict-gcide fortunes fortunes-de manpages manpages-de";

    /**
     * Builds the corpora into {@code o.out()}; a directory that already holds them, built with the
     * same options from the same kind of source, is kept as it is (so the README's main job can be
     * rerun), anything else there is refused unless {@code overwrite}.
     */
    public static Card build(Options o, Consumer<String> log) throws IOException {
        return build(o, DebianPackages.onThisMachine(List.of(PACKAGES.split(" ")), BuiltinCorpora::presentUnder), log);
    }

    /**
     * As {@link #build(Options, Consumer)}, with {@code packages} getting the Debian packages where
     * they are missing (installed, or unpacked into {@link DebianPackages#cacheBeside} the output);
     * what it did is logged in one line.
     */
    public static Card build(Options o, DebianPackages packages, Consumer<String> log) throws IOException {
        Map<String, List<TextSource>> sources = null;
        if (!o.synthetic()) {
            DebianPackages.Outcome got = packages.obtain(DebianPackages.cacheBeside(o.out()));
            log.accept(got.line());
            if (got.root() != null) sources = debianSources(got.root());
        }
        if (Files.exists(o.out()) && !o.overwrite()) {
            Card existing = existing(o.out());
            String wanted = sources == null ? "synthetic" : "debian";
            if (existing != null && existing.source().equals(wanted) && existing.seed() == o.seed()
                    && existing.tokenizer().equals(TokenizerInfo.of(o.tokenizer()))
                    && existing.maxBytesPerDataset() == o.maxBytesPerDataset() && existing.valFraction() == o.valFraction()) {
                log.accept(o.out() + " already holds these built-in corpora; kept as they are");
                return existing;
            }
            throw new IllegalStateException(o.out() + " already exists" + (existing == null ? "" : " with corpora built with other options")
                    + "; choose another directory or overwrite it");
        }
        String kind = "debian";
        if (sources == null) {
            if (o.synthetic()) log.accept("building synthetic corpora (--synthetic)");
            sources = syntheticSources(o.seed(), o.maxBytesPerDataset());
            kind = "synthetic";
        }
        Path tmp = o.out().resolveSibling(o.out().getFileName() + ".tmp-" + ProcessHandle.current().pid());
        deleteTree(tmp);
        Files.createDirectories(tmp);
        try {
            Map<String, DatasetCard> datasets = writeDatasets(sources, tmp, o, log);
            Map<String, PairCard> pairs = measurePairs(tmp, o.tokenizer());
            Card card = new Card(kind, TokenizerInfo.of(o.tokenizer()), o.seed(), o.maxBytesPerDataset(), o.valFraction(),
                    datasets, pairs);
            AtomicFiles.writeJson(tmp.resolve("corpora.json"), card);
            AtomicFiles.writeString(tmp.resolve("README.md"), DataCardMarkdown.render(card));
            if (Files.exists(o.out())) deleteTree(o.out());
            AtomicFiles.move(tmp, o.out());
            return card;
        } catch (IOException | RuntimeException e) {
            deleteTree(tmp);
            throw e;
        }
    }

    private static Card existing(Path dir) {
        try {
            return dev.cpt.record.Json.MAPPER.readValue(dir.resolve("corpora.json").toFile(), Card.class);
        } catch (IOException e) {
            return null;
        }
    }

    private static Map<String, DatasetCard> writeDatasets(Map<String, List<TextSource>> sources, Path dir, Options o,
                                                          Consumer<String> log) throws IOException {
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(3, Runtime.getRuntime().availableProcessors()));
        try {
            Map<String, Future<Map<String, DatasetCard>>> jobs = new LinkedHashMap<>();
            for (var e : sources.entrySet()) {
                jobs.put(e.getKey(), pool.submit(() -> writeDataset(e.getKey(), e.getValue(), dir, o, log)));
            }
            Map<String, DatasetCard> cards = new LinkedHashMap<>();
            for (var job : jobs.values()) cards.putAll(job.get());
            return cards;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof IOException io) throw io;
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IOException(e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /** One dataset, and for {@code en} its three IID splits too, each document to train or val by a seeded hash. */
    private static Map<String, DatasetCard> writeDataset(String name, List<TextSource> sources, Path dir, Options o,
                                                         Consumer<String> log) throws IOException {
        TokenizerInfo info = TokenizerInfo.of(o.tokenizer());
        List<String> names = new ArrayList<>(List.of(name));
        if (name.equals("en")) names.addAll(List.of(SPLITS));
        Map<String, ShardWriter[]> writers = new LinkedHashMap<>();
        for (String n : names) {
            Files.createDirectories(dir.resolve(n));
            writers.put(n, new ShardWriter[] {
                CptTokensFormat.writer(dir.resolve(n).resolve("train.bin"), info, null),
                CptTokensFormat.writer(dir.resolve(n).resolve("val.bin"), info, null)});
        }
        long[] documents = new long[names.size()];
        StringBuilder description = new StringBuilder();
        for (int si = 0; si < sources.size(); si++) {
            TextSource source = sources.get(si);
            long sourceKey = SplitMix.key(o.seed(), "builtin:" + name + ":" + si);
            // Each source of a dataset gets an equal share of its text budget, so a big one cannot drown the rest.
            double keepRate = Math.min(1.0, (double) o.maxBytesPerDataset() / sources.size() / Math.max(1, source.estimatedBytes()));
            description.append(description.isEmpty() ? "" : "; ").append(source.describe());
            source.forEachDocument(ordinal -> unit(SplitMix.mix(sourceKey ^ ordinal)) < keepRate, text -> {
                long h = SplitMix.mix(sourceKey ^ SplitMix.mix(text.hashCode()) ^ 0x5bd1e995L);
                int split = unit(h) < o.valFraction() ? 1 : 0;
                int[] tokens = o.tokenizer().encode(text);
                try {
                    writers.get(name)[split].writeDocument(tokens);
                    documents[0]++;
                    if (names.size() > 1) {
                        int k = 1 + (int) Long.remainderUnsigned(SplitMix.mix(h), SPLITS.length);
                        writers.get(names.get(k))[split].writeDocument(tokens);
                        documents[k]++;
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
        Map<String, DatasetCard> cards = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            ShardWriter[] w = writers.get(names.get(i));
            w[0].close();
            w[1].close();
            if (w[0].tokens() == 0 || w[1].tokens() == 0) {
                throw new IllegalStateException("built-in dataset " + names.get(i) + " came out with no "
                        + (w[0].tokens() == 0 ? "training" : "validation") + " documents; give it more text");
            }
            String d = i == 0 ? description.toString() : "one third of en, split by document";
            cards.put(names.get(i), new DatasetCard(d, documents[i], w[0].tokens(), w[1].tokens()));
            log.accept(String.format("%-5s %,9d documents, %,11d train + %,9d val tokens", names.get(i), documents[i],
                    w[0].tokens(), w[1].tokens()));
        }
        return cards;
    }

    private static double unit(long h) {
        return (h >>> 11) * 0x1.0p-53;
    }

    private static Map<String, PairCard> measurePairs(Path dir, Tokenizer tokenizer) {
        Map<String, PairCard> pairs = new LinkedHashMap<>();
        pairs.put("no-shift", pair(dir, "en-1", "en-2", tokenizer));
        pairs.put("weak", pair(dir, "en", "en-b", tokenizer));
        pairs.put("strong", pair(dir, "en", "de", tokenizer));
        return pairs;
    }

    private static PairCard pair(Path dir, String d0, String d1, Tokenizer tokenizer) {
        TokenShard train0 = CptTokensFormat.open(dir.resolve(d0).resolve("train.bin"));
        NgramShift model = new NgramShift(train0, tokenizer.vocabSize(), 8_000_000);
        var on0 = model.crossEntropy(CptTokensFormat.open(dir.resolve(d0).resolve("val.bin")), 2_000_000);
        TokenShard val1 = CptTokensFormat.open(dir.resolve(d1).resolve("val.bin"));
        var on1 = model.crossEntropy(val1, 2_000_000);
        var own1 = new NgramShift(CptTokensFormat.open(dir.resolve(d1).resolve("train.bin")), tokenizer.vocabSize(), 8_000_000)
                .crossEntropy(val1, 2_000_000);
        return new PairCard(d0, d1, on0, on1, own1, on1.unigram() - on0.unigram(), on1.bigram() - on0.bigram(),
                on1.bigram() - own1.bigram());
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (var s = Files.walk(p)) {
            for (Path f : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(f);
        }
    }
}
