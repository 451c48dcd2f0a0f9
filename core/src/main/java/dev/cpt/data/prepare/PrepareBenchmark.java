package dev.cpt.data.prepare;

import dev.cpt.record.Json;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * How fast {@link Prepare#run} turns text into shards, end to end (listing, reading, tokenizing,
 * writing, renaming). Generates a deterministic English-like corpus of {@code --mb} MB in a
 * temporary directory (or reads {@code --corpus PATH}), runs {@code --runs} times, and prints one
 * JSON line per run: {@code {tokenizer, jobs, mb, seconds, mbPerSecond, tokensPerSecond}}; with
 * several runs, a last line with the medians and {@code "median": true}.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp core/target/classes:$(cat cp.txt) \
 *     dev.cpt.data.prepare.PrepareBenchmark --tokenizer gpt2 --jobs 2 --mb 50 --runs 3
 * </pre>
 * Options: {@code --tokenizer ID} (bytes), {@code --jobs N} (all cores), {@code --mb N} (50),
 * {@code --runs N} (1), {@code --format jsonl|text} (jsonl; text writes 1 MB files of documents
 * separated by {@code %} lines), {@code --corpus PATH} (prepare these files instead).
 */
public final class PrepareBenchmark {
    private PrepareBenchmark() {}

    public static void main(String[] args) throws IOException {
        String tokenizer = "bytes";
        int jobs = Runtime.getRuntime().availableProcessors();
        double mb = 50;
        int runs = 1;
        String format = "jsonl";
        Path corpus = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) usage("missing value for " + a);
            String v = args[++i];
            switch (a) {
                case "--tokenizer" -> tokenizer = v;
                case "--jobs" -> jobs = Integer.parseInt(v);
                case "--mb" -> mb = Double.parseDouble(v);
                case "--runs" -> runs = Integer.parseInt(v);
                case "--format" -> format = v;
                case "--corpus" -> corpus = Path.of(v);
                default -> usage("unknown option " + a);
            }
        }
        if (!format.equals("jsonl") && !format.equals("text")) usage("--format is jsonl or text");
        Path work = Files.createTempDirectory("cpt-prepare-bench-");
        try {
            Path input = corpus;
            if (input == null) {
                input = work.resolve("corpus");
                generate(input, (long) (mb * 1e6), format.equals("text"));
            }
            List<Map<String, Object>> results = new ArrayList<>();
            for (int r = 0; r < runs; r++) {
                PrepareOptions opts = PrepareOptions.builder().input(input).tokenizer(tokenizer).jobs(jobs)
                        .out(work.resolve("out")).overwrite(true).seed(r)
                        .documentSeparator(corpus == null && format.equals("text") ? "%" : null).build();
                long t0 = System.nanoTime();
                PrepareReport report = Prepare.run(opts, ProgressListener.NONE);
                double seconds = (System.nanoTime() - t0) / 1e9;
                double textMb = (report.train().bytes() + report.val().bytes()) / 1e6;
                long tokens = report.train().tokens() + report.val().tokens();
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("tokenizer", tokenizer);
                line.put("jobs", jobs);
                line.put("mb", round(textMb));
                line.put("seconds", round(seconds));
                line.put("mbPerSecond", round(textMb / seconds));
                line.put("tokensPerSecond", Math.round(tokens / seconds));
                System.out.println(Json.MAPPER.writeValueAsString(line));
                results.add(line);
            }
            if (runs > 1) {
                Map<String, Object> median = new LinkedHashMap<>(results.getFirst());
                for (String k : List.of("seconds", "mbPerSecond", "tokensPerSecond")) {
                    median.put(k, median(results.stream().mapToDouble(m -> ((Number) m.get(k)).doubleValue()).toArray()));
                }
                median.put("tokensPerSecond", Math.round((Double) median.get("tokensPerSecond")));
                median.put("runs", runs);
                median.put("median", true);
                System.out.println(Json.MAPPER.writeValueAsString(median));
            }
        } finally {
            Prepare.deleteRecursively(work);
        }
    }

    private static void usage(String problem) {
        System.err.println(problem + "\nusage: PrepareBenchmark [--tokenizer bytes|gpt2|hf:PATH] [--jobs N] [--mb N] [--runs N]"
                + " [--format jsonl|text] [--corpus PATH]");
        System.exit(2);
    }

    private static double round(double x) {
        return Math.round(x * 1000) / 1000.0;
    }

    private static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    // ---------------------------------------------------------------- a synthetic corpus

    private static final String[] WORDS = ("the of and to a in is it you that he was for on are with as I his they be at one have this from "
            + "or had by hot word but what some we can out other were all there when up use your how said an each she which do "
            + "their time if will way about many then them write would like so these her long make thing see him two has look "
            + "more day could go come did number sound no most people my over know water than call first who may down side been "
            + "now find any new work part take get place made live where after back little only round man year came show every "
            + "good me give our under name very through just form sentence great think say help low line differ turn cause much "
            + "mean before move right boy old too same tell does set three want air well also play small end put home read hand "
            + "port large spell add even land here must big high such follow act why ask men change went light kind off need "
            + "house picture try us again animal point mother world near build self earth father head stand own page should "
            + "country found answer school grow study still learn plant cover food sun four between state keep eye never last "
            + "let thought city tree cross farm hard start might story saw far sea draw left late run don't while press close "
            + "night real life few north open seem together next white children begin got walk example ease paper group always "
            + "music those both mark often letter until mile river car feet care second book carry took science eat room friend "
            + "began idea fish mountain stop once base hear horse cut sure watch color face wood main enough plain girl usual "
            + "young ready above ever red list though feel talk bird soon body dog family direct pose leave song measure door").split(" ");

    /** Writes about {@code bytes} bytes of text: JSON Lines files, or text files of %-separated documents. */
    static void generate(Path dir, long bytes, boolean text) throws IOException {
        Files.createDirectories(dir);
        SplittableRandom rnd = new SplittableRandom(20240601L);
        double[] cumulative = new double[WORDS.length];
        double sum = 0;
        for (int i = 0; i < WORDS.length; i++) cumulative[i] = sum += 1.0 / (i + 2);
        long fileLimit = text ? 1_000_000 : 64_000_000;
        long written = 0;
        int fileNo = 0;
        StringBuilder doc = new StringBuilder();
        while (written < bytes) {
            Path file = dir.resolve(String.format(text ? "part-%05d.txt" : "part-%05d.jsonl", fileNo++));
            long inFile = 0;
            try (Writer w = new BufferedWriter(Files.newBufferedWriter(file, StandardCharsets.UTF_8), 1 << 16)) {
                while (inFile < fileLimit && written < bytes) {
                    doc.setLength(0);
                    document(rnd, cumulative, sum, doc);
                    String s = doc.toString();
                    if (text) {
                        w.write(s);
                        w.write("\n%\n");
                    } else {
                        w.write("{\"text\": \"");
                        w.write(s.replace("\n", "\\n"));
                        w.write("\"}\n");
                    }
                    long n = s.length(); // ASCII only: characters are bytes
                    inFile += n;
                    written += n;
                }
            }
        }
    }

    private static void document(SplittableRandom rnd, double[] cumulative, double sum, StringBuilder out) {
        int paragraphs = 1 + rnd.nextInt(5);
        for (int p = 0; p < paragraphs; p++) {
            if (p > 0) out.append("\n\n");
            int sentences = 2 + rnd.nextInt(7);
            for (int s = 0; s < sentences; s++) {
                if (s > 0) out.append(' ');
                int words = 4 + rnd.nextInt(17);
                for (int k = 0; k < words; k++) {
                    if (k > 0) out.append(rnd.nextInt(12) == 0 ? ", " : " ");
                    if (rnd.nextInt(40) == 0) {
                        out.append(rnd.nextInt(2000));
                        continue;
                    }
                    String word = WORDS[pick(rnd.nextDouble() * sum, cumulative)];
                    if (k == 0) out.append(Character.toUpperCase(word.charAt(0))).append(word, 1, word.length());
                    else out.append(word);
                }
                out.append(switch (rnd.nextInt(10)) {
                    case 0 -> '?';
                    case 1 -> '!';
                    default -> '.';
                });
            }
        }
    }

    private static int pick(double u, double[] cumulative) {
        int i = Arrays.binarySearch(cumulative, u);
        return Math.min(i >= 0 ? i : -i - 1, cumulative.length - 1);
    }
}
