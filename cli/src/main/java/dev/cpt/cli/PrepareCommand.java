package dev.cpt.cli;

import dev.cpt.data.corpus.BuiltinCorpora;
import dev.cpt.data.prepare.Prepare;
import dev.cpt.data.prepare.PrepareException;
import dev.cpt.data.prepare.PrepareOptions;
import dev.cpt.data.prepare.PrepareReport;
import dev.cpt.data.tokenize.Tokenizer;
import dev.cpt.data.tokenize.Tokenizers;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cpt prepare}: text into token shards, or the built-in corpora. */
@Command(name = "prepare",
        sortOptions = false,
        description = {
            "Tokenize text into token shards (train.bin / val.bin with JSON sidecars), or build the built-in corpora.",
            "",
            "Inputs are text files, directories of them, or JSON Lines (.jsonl, .jsonl.gz, .jsonl.zst) with a text "
                    + "field. Documents go to train or val by a seeded hash; all cores tokenize; the output appears "
                    + "under --out only when complete.",
            "",
            "With --builtin DIR: the no-shift, weak and strong dataset pairs from Debian-packaged English and German "
                    + "text (" + BuiltinCorpora.PACKAGES + "), with a data card measuring each pair's shift. Packages "
                    + "that are missing are installed with apt-get as root, otherwise fetched with apt-get download and "
                    + "unpacked with dpkg-deb -x into DIR/../.debian-cache; one line says which. Only when neither works "
                    + "do seeded synthetic languages stand in, and the line says why."
        })
final class PrepareCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Mode mode;

    static final class Mode {
        @ArgGroup(exclusive = false)
        Inputs inputs;

        @Option(names = "--builtin", paramLabel = "DIR", required = true,
                description = "Build the built-in corpora into DIR instead of tokenizing inputs.")
        Path builtin;
    }

    static final class Inputs {
        @Parameters(arity = "1..*", paramLabel = "INPUT", description = "Text files, directories, JSON Lines files.")
        List<Path> inputs;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where the shards go (must not exist).")
        Path out;
    }

    @Option(names = "--tokenizer", defaultValue = "bytes", paramLabel = "T",
            description = "bytes, gpt2, or hf:PATH[#eot=ID] (a Hugging Face tokenizer.json). Default: ${DEFAULT-VALUE}.")
    String tokenizer;

    @Option(names = "--val", paramLabel = "FRACTION",
            description = "Share of documents for validation, in [0, 1). Default: 0.01; 0.02 for --builtin, whose corpora are small.")
    Double val;

    @Option(names = "--seed", defaultValue = "0", description = "Decides the train/val split. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--jobs", defaultValue = "0", paramLabel = "N", description = "Tokenizing threads (default: all cores).")
    int jobs;

    @Option(names = "--split-domains",
            description = "One shard pair per domain (the --domain-field of each JSON Lines record).")
    boolean splitDomains;

    @Option(names = "--skip-bad-lines", description = "Skip and count JSON Lines lines without text, instead of stopping.")
    boolean skipBadLines;

    @Option(names = "--separator", paramLabel = "REGEX",
            description = "A whole line of a text file matching REGEX separates documents (e.g. '%%' for fortune files); "
                    + "without it a text file is one document.")
    String separator;

    @Option(names = "--text-field", defaultValue = PrepareOptions.DEFAULT_TEXT_FIELD, paramLabel = "FIELD",
            description = "JSON Lines field with the text (dotted for nested). Default: ${DEFAULT-VALUE}.")
    String textField;

    @Option(names = "--domain-field", defaultValue = PrepareOptions.DEFAULT_DOMAIN_FIELD, paramLabel = "FIELD",
            description = "JSON Lines field with the domain. Default: ${DEFAULT-VALUE}.")
    String domainField;

    @Option(names = "--max-mb", defaultValue = "16", paramLabel = "MB",
            description = "--builtin: text per dataset, in MB, sampled by document. Default: ${DEFAULT-VALUE}.")
    long maxMb;

    @Option(names = "--synthetic", description = "--builtin: use the synthetic languages even where the Debian text is "
            + "installed (nothing is installed or fetched).")
    boolean synthetic;

    @Option(names = "--force", description = "Replace the output directory if it exists.")
    boolean force;

    @Override
    public Integer call() throws IOException {
        double valFraction = val != null ? val : mode.builtin != null ? 0.02 : PrepareOptions.DEFAULT_VAL_FRACTION;
        if (!(valFraction >= 0 && valFraction < 1)) throw new CliException("--val " + valFraction + " is not within [0, 1)");
        Tokenizer t;
        try {
            t = Tokenizers.open(tokenizer);
        } catch (IllegalArgumentException e) {
            throw new CliException("--tokenizer: " + e.getMessage(), e);
        }
        return mode.builtin != null ? builtin(t, valFraction) : inputs(valFraction);
    }

    private int builtin(Tokenizer t, double valFraction) throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        var card = BuiltinCorpora.build(new BuiltinCorpora.Options(mode.builtin, t, seed, maxMb * 1_000_000, valFraction,
                synthetic, force), line -> {
                    err.println(line);
                    err.flush();
                });
        out.println("built-in corpora (" + card.source() + ") in " + mode.builtin + "; data card: " + mode.builtin.resolve("README.md"));
        card.pairs().forEach((name, p) -> out.println(String.format(Locale.ROOT,
                "  %-8s %-4s -> %-4s  bigram rise %+.3f, excess %.3f nats/token", name, p.d0(), p.d1(), p.bigramShift(), p.bigramExcess())));
        return 0;
    }

    private int inputs(double valFraction) throws IOException {
        PrepareOptions options;
        try {
            options = PrepareOptions.builder().inputs(mode.inputs.inputs).tokenizer(tokenizer).out(mode.inputs.out)
                    .valFraction(valFraction).seed(seed).jobs(jobs).skipBadLines(skipBadLines).splitByDomain(splitDomains)
                    .documentSeparator(separator).overwrite(force).textField(textField).domainField(domainField).build();
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), e);
        }
        PrepareReport r;
        try (Progress.Meter bar = Progress.meter(spec.commandLine().getErr(), "prepare", Progress.Unit.MB, 1)) {
            r = Prepare.run(options, (done, total) -> {
                bar.maxHint(Math.max(1, total));
                bar.stepTo(done);
            });
        } catch (PrepareException e) {
            throw new CliException(e.getMessage(), e);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(String.format(Locale.ROOT, "%s: %,d files, tokenizer %s; train %,d documents / %,d tokens, val %,d / %,d; "
                        + "%.1f MB/s", r.out(), r.files(), r.tokenizer().id(), r.train().documents(), r.train().tokens(),
                r.val().documents(), r.val().tokens(), r.mbPerSecond()));
        if (r.badLinesSkipped() > 0) out.println("  skipped " + r.badLinesSkipped() + " bad lines");
        r.warnings().forEach(w -> out.println("  warning: " + w));
        return 0;
    }
}
