package dev.cpt.data;

import dev.cpt.data.shard.ShardFormatException;
import dev.cpt.data.shard.Shards;
import dev.cpt.data.shard.TokenShard;
import dev.cpt.data.shard.TokenizerInfo;
import dev.cpt.data.tokenize.Tokenizer;
import dev.cpt.data.tokenize.Tokenizers;
import dev.cpt.spec.DatasetSpec;
import dev.cpt.spec.RunSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Opens the token files a run spec names ({@code datasets.NAME.train} / {@code .val}) with
 * {@link Shards#open}, whatever their format, and checks that they belong together: every file
 * made by the same tokenizer (same id and vocabulary size), and that tokenizer's vocabulary no
 * larger than the model's {@code vocabSize}. Every problem is reported at once, each under the
 * spec path of the split it concerns ({@code datasets.en.train: data/en/train.bin: ...}). A dataset of
 * domains opens one file per domain ({@code {domain}} in its paths replaced by the domain's name).
 */
public final class DataOpener {
    private DataOpener() {}

    /** What went wrong opening a run's data: one line per problem. */
    public static final class DataException extends IllegalArgumentException {
        private final List<String> problems;

        DataException(String headline, List<String> problems) {
            super(headline + ":\n  " + String.join("\n  ", problems));
            this.problems = List.copyOf(problems);
        }

        public List<String> problems() {
            return problems;
        }
    }

    /**
     * Opens every split of {@code spec}'s datasets. Relative paths are resolved against
     * {@code baseDir}; files that do not record their tokenizer are read with their format's usual
     * one (GPT-2 for most).
     */
    public static DataSources open(RunSpec spec, Path baseDir) {
        return open(spec, baseDir, null);
    }

    /**
     * As {@link #open(RunSpec, Path)}, with {@code tokenizerHintOrNull} as the tokenizer of the files
     * that do not record one (nanoGPT, llm.c, Megatron).
     */
    public static DataSources open(RunSpec spec, Path baseDir, TokenizerInfo tokenizerHintOrNull) {
        Map<String, List<DataSources.Domain>> train = new LinkedHashMap<>();
        Map<String, List<DataSources.Domain>> val = new LinkedHashMap<>();
        Map<String, TokenShard> opened = new LinkedHashMap<>(); // spec path -> shard, in spec order
        List<String> problems = new ArrayList<>();

        for (Map.Entry<String, DatasetSpec> e : new TreeMap<>(spec.datasets()).entrySet()) {
            String name = e.getKey();
            DatasetSpec d = e.getValue();
            if (d == null) continue;
            for (String split : List.of("train", "val")) {
                var into = split.equals("train") ? train : val;
                Map<String, Double> domains = d.domainWeights();
                if (domains == null) {
                    openSplit("datasets." + name + "." + split, d.pathOf(split, ""), "", 1.0, baseDir, tokenizerHintOrNull,
                            problems, opened, into, name);
                    continue;
                }
                // Sorted by domain name: the order of a spec's map must not change which windows a run sees.
                for (var domain : new TreeMap<>(domains).entrySet()) {
                    if (domain.getValue() <= 0) continue;
                    openSplit("datasets." + name + "." + split + "{domain=" + domain.getKey() + "}", d.pathOf(split, domain.getKey()),
                            domain.getKey(), domain.getValue(), baseDir, tokenizerHintOrNull, problems, opened, into, name);
                }
            }
        }
        if (!problems.isEmpty()) throw new DataException("cannot open the run's data", problems);

        // One tokenizer for the whole run.
        Map<String, List<String>> byTokenizer = new LinkedHashMap<>();
        for (Map.Entry<String, TokenShard> e : opened.entrySet()) {
            TokenizerInfo t = e.getValue().tokenizer();
            byTokenizer.computeIfAbsent(t.id() + "\u0000" + t.vocabSize(), k -> new ArrayList<>())
                    .add(e.getKey() + ": " + e.getValue().file() + ": tokenizer " + e.getValue().describeTokenizer());
        }
        if (byTokenizer.size() > 1) {
            List<String> lines = new ArrayList<>();
            byTokenizer.values().forEach(lines::addAll);
            throw new DataException("the run's token files were made by " + byTokenizer.size()
                    + " different tokenizers; all must share one (same id and vocabulary size)", lines);
        }

        if (!opened.isEmpty() && spec.model().init() != null) {
            Map.Entry<String, TokenShard> first = opened.entrySet().iterator().next();
            String problem = initTokenizerProblem(spec.model().init(), first.getValue().tokenizer());
            if (problem != null) {
                throw new DataException("the run's data was not made by the tokenizer of its model.init", List.of(
                        first.getKey() + ": " + first.getValue().file() + ": tokenizer " + first.getValue().describeTokenizer(),
                        "model.init: " + problem));
            }
        }

        // The model can embed every id.
        int modelVocab = spec.model().shape().vocabSize();
        if (!opened.isEmpty()) {
            Map.Entry<String, TokenShard> first = opened.entrySet().iterator().next(); // one tokenizer: it speaks for all
            TokenizerInfo t = first.getValue().tokenizer();
            if (t.vocabSize() > modelVocab) {
                throw new DataException("the data's vocabulary is larger than the model's", List.of(
                        first.getKey() + ": " + first.getValue().file() + ": tokenizer " + first.getValue().describeTokenizer()
                                + " has more ids than model.vocabSize " + modelVocab + "; set model.vocabSize to at least "
                                + t.vocabSize()));
            }
        }
        return DataSources.ofDomains(train, val);
    }

    /**
     * Why the data's tokenizer is not the one of the init's {@code tokenizer.json} (an hf: model's own,
     * or a run's init's), or null when it is or the init has none. The same file (or the same bytes)
     * is the same tokenizer; another id must at least agree in vocabulary size and end-of-text id
     * (GPT-2's hub tokenizer.json and cpt's built-in gpt2 do; Pythia's and gpt2 do not).
     */
    static String initTokenizerProblem(String init, TokenizerInfo data) {
        java.util.Optional<Path> file;
        try {
            file = dev.cpt.hf.ModelInit.parse(init).tokenizer();
        } catch (java.io.IOException | RuntimeException unreadable) {
            return null; // the spec reader reports an init it cannot read
        }
        if (file.isEmpty()) return null;
        String id = "hf:" + file.get().toAbsolutePath().normalize();
        if (Tokenizers.sameId(id, data.id())) return null;
        Tokenizer tok;
        try {
            tok = Tokenizers.open(id);
        } catch (IllegalArgumentException e) {
            return init + " has " + file.get() + ", which cannot be read as a tokenizer: " + e.getMessage();
        }
        try {
            if (tok.vocabSize() == data.vocabSize() && tok.endOfText() == data.endOfText()) return null;
            return init + "'s tokenizer " + file.get() + " has vocabulary " + tok.vocabSize() + " and end of text " + tok.endOfText()
                    + ", the data's " + data.id() + " " + data.vocabSize() + " and " + data.endOfText() + "; prepare the data with "
                    + "cpt prepare --tokenizer " + init;
        } finally {
            if (tok instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // closing frees native memory; nothing to report
                }
            }
        }
    }

    private static void openSplit(String at, String file, String domain, double weight, Path baseDir, TokenizerInfo hint,
                                  List<String> problems, Map<String, TokenShard> opened,
                                  Map<String, List<DataSources.Domain>> into, String dataset) {
        if (file == null) return;
        Path path = baseDir.resolve(file);
        try {
            TokenShard shard = Shards.open(path, hint);
            opened.put(at, shard);
            into.computeIfAbsent(dataset, k -> new ArrayList<>()).add(new DataSources.Domain(domain, shard, weight));
        } catch (ShardFormatException ex) {
            problems.add(at + " (\"" + file + "\"): " + ex.getMessage());
        }
    }
}
