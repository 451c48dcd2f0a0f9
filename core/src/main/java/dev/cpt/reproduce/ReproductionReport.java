package dev.cpt.reproduce;

import dev.cpt.metrics.RunSummary;
import dev.cpt.plan.RunPlan;
import dev.cpt.record.AtomicFiles;
import dev.cpt.report.Figures;
import dev.cpt.report.SweepReport;
import dev.cpt.report.VariantResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * {@code report.md} of a reproduction: how it was run, the claims table (one row per claim, then
 * every comparison with its per-seed numbers), and per experiment a table of final losses (mean ±
 * half the seed-to-seed range) with the first seed's figures (drawn by {@link SweepReport} into
 * {@code figures/<experiment>/}).
 */
public final class ReproductionReport {
    private ReproductionReport() {}

    public static final String MARKDOWN = "report.md";
    public static final String FIGURES = "figures";

    static Path write(Path out, Reproduction.Options o, Map<Experiment, List<VariantResult>> results,
                      List<Claim.Result> claims, List<String> failures, double minutes) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append("# Reproducing PAPER.md on the simulator\n\n");
        md.append("Made by `").append(o.command()).append("` (scale ").append(number(o.scale())).append(", seeds 1–")
          .append(o.seeds()).append(", ").append(o.jobs()).append(o.jobs() == 1 ? " job" : " jobs").append("); this invocation took ")
          .append(String.format(Locale.ROOT, "%.1f", minutes)).append(" min (finished runs are reused, so a rerun is quick).\n\n");
        method(md, results);
        claimsTable(md, claims);
        if (!failures.isEmpty()) {
            md.append("## Failed runs\n\nThe comparisons on these runs decide nothing (they show as inconclusive, naming the missing seed).\n\n");
            for (String f : failures) md.append("- ").append(f.replace("\n", " ")).append('\n');
            md.append('\n');
        }
        for (var e : results.entrySet()) experiment(md, out, e.getKey(), e.getValue());
        Path file = out.resolve(MARKDOWN);
        AtomicFiles.writeString(file, withSyntheticNotice(results, md.toString()));
        return file;
    }

    /** The report opens by saying so when its runs trained on the built-in corpora's synthetic stand-ins. */
    private static String withSyntheticNotice(Map<Experiment, List<VariantResult>> results, String markdown) {
        return dev.cpt.report.SyntheticDataNotice.prepend(results.values().stream().flatMap(List::stream).toList(), markdown);
    }

    private static void method(StringBuilder md, Map<Experiment, List<VariantResult>> results) {
        md.append("## Method\n\n");
        RunPlan example = results.values().stream().flatMap(List::stream).map(VariantResult::plan).findFirst().orElse(null);
        if (example != null) {
            var shape = example.spec().model().shape();
            md.append("- Model: `").append(example.spec().model().preset() != null ? example.spec().model().preset() : shape.arch())
              .append("` (").append(shape.arch()).append(", ").append(shape.layers()).append(" layers, d ").append(shape.dModel())
              .append(", ").append(shape.heads()).append(" heads, context ").append(shape.contextLength()).append(", byte vocabulary ")
              .append(shape.vocabSize()).append("), batch ").append(example.spec().batch().sequences()).append(" × ")
              .append(example.spec().batch().seqLen()).append(" tokens, AdamW β1 0.9, β2 0.95, weight decay 0.1, clip 1.0, optimizer reset at every dataset boundary.\n");
        }
        md.append("- Data: the built-in corpora (`cpt prepare --builtin data/builtin`): D0 = `en`, weak shift D1 = `en-b`, strong shift D1 = `de`, no shift = `en` again or the IID thirds `en-1..3`.\n");
        md.append("- Budgets and rates are in `examples/paper/*.json` and `examples/paper/README.md` (η_max 3e-3 for the toy model, η_min = 0.1·η_max, η_const = 0.55·η_max, warmup 1%, cooldown 60%); `--scale` multiplies every step count.\n");
        md.append("- Metrics: *final loss* = mean validation loss over a run's last steps (the paper's last 100 iterations every 10, scaled); *F* = forgetting of D0 (its final loss minus its loss at the end of pre-training); *L1* = D1's final loss (lower: adapted more); *Avg* = the mean of D0's and D1's final losses.\n");
        md.append("- Verdicts (fixed in `dev.cpt.reproduce.Rule` before any result was seen): each comparison takes the same seed's runs, ")
          .append("d_s = the seed's difference; m = mean of d_s; spread = half their range; L = the reference loss the quantity is measured on ")
          .append("(mean over seeds). *Directional* (\"more\", \"less\", \"beats\"): reproduced when m has the claimed sign beyond the spread and |m| ≥ ")
          .append(percent(Rule.EFFECT)).append(" of L (")
          .append(percent(Rule.MATCH)).append(" for \"clearly\"/\"markedly\"); not reproduced when m has the other sign beyond the spread, or |m| + spread stays below that minimum; ")
          .append("*match* (\"no notable effect\", \"close to\", \"negligible\", \"barely\"): reproduced when |m| + spread ≤ ").append(percent(Rule.MATCH))
          .append(" of L (one-sided where being better is no failure); not reproduced when |m| − spread exceeds it. Anything else, and anything with fewer than 2 seeds, is inconclusive. ")
          .append("A claim is reproduced when all its comparisons are, not reproduced when any is not, else inconclusive. ")
          .append(percent(Rule.MATCH)).append(" of L because the paper's \"within 0.02 nats\" is ≈ 1% of its ≈ 2.2-nat GPT-NeoX-token losses; our byte-level losses are on another scale.\n");
        md.append("- C14 (larger models forget less) needs two model scales and is not tested here.\n\n");
    }

    private static void claimsTable(StringBuilder md, List<Claim.Result> claims) {
        md.append("## Claims\n\n| claim | statement | comparisons reproduced | verdict |\n|---|---|---:|---|\n");
        for (Claim.Result c : claims) {
            long ok = c.comparisons().stream().filter(r -> r.verdict() == Verdict.REPRODUCED).count();
            md.append("| ").append(c.claim().id()).append(" | ").append(cell(c.claim().statement())).append(" | ").append(ok).append(" / ")
              .append(c.comparisons().size()).append(" | **").append(c.verdict()).append("** |\n");
        }
        md.append('\n');
        for (Claim.Result c : claims) {
            md.append("### ").append(c.claim().id()).append(": ").append(c.verdict()).append("\n\n").append(c.claim().statement())
              .append(" Compared: ").append(c.claim().comparison()).append("\n\n");
            md.append("| comparison d | rule | d per seed | mean | spread | L | verdict |\n|---|---|---|---:|---:|---:|---|\n");
            for (Comparison.Result r : c.comparisons()) {
                List<String> perSeed = new ArrayList<>();
                for (int i = 0; i < r.seeds().size(); i++) perSeed.add(r.seeds().get(i) + ": " + signed(r.differences().get(i)));
                md.append("| ").append(cell(r.label())).append(" | ").append(cell(r.rule().describe())).append(" | ")
                  .append(perSeed.isEmpty() ? "—" : String.join(", ", perSeed)).append(" | ").append(signed(r.mean())).append(" | ")
                  .append(number(r.spread())).append(" | ").append(number(r.reference())).append(" | ").append(r.verdict())
                  .append(r.missing() != null ? " (" + r.missing() + ")" : "").append(" |\n");
            }
            md.append('\n');
        }
    }

    private static void experiment(StringBuilder md, Path out, Experiment e, List<VariantResult> runs) throws IOException {
        md.append("## ").append(e.section()).append(" ").append(e.title()).append(" (`").append(e.id()).append("`)\n\n");
        // Variants in their order, each with its seeds' summaries.
        Map<String, List<VariantResult>> byVariant = new LinkedHashMap<>();
        for (VariantResult r : runs) byVariant.computeIfAbsent(Outcomes.variantOf(r.name()), k -> new ArrayList<>()).add(r);
        Set<String> datasets = new LinkedHashSet<>();
        for (VariantResult r : runs) if (r.summary() != null) datasets.addAll(r.summary().datasets().keySet());
        boolean forgetting = runs.stream().anyMatch(r -> r.summary() != null && r.summary().datasets().values().stream().anyMatch(d -> d.forgetting() != null));

        md.append("| variant |");
        for (String d : datasets) md.append(" final loss ").append(d).append(" |");
        if (forgetting) md.append(" forgetting | peak forgetting |");
        md.append(" average final loss | seeds |\n|---|").append("---:|".repeat(datasets.size() + (forgetting ? 2 : 0) + 2)).append('\n');
        for (var v : byVariant.entrySet()) {
            List<RunSummary> ok = v.getValue().stream().map(VariantResult::summary).filter(java.util.Objects::nonNull).toList();
            md.append("| `").append(v.getKey()).append("` |");
            for (String d : datasets) md.append(' ').append(meanSpread(ok, s -> s.datasets().get(d) == null ? null : s.datasets().get(d).finalLoss())).append(" |");
            if (forgetting) {
                md.append(' ').append(meanSpread(ok, s -> s.datasets().values().stream().map(RunSummary.DatasetSummary::forgetting)
                        .filter(java.util.Objects::nonNull).findFirst().orElse(null))).append(" |");
                md.append(' ').append(meanSpread(ok, s -> s.datasets().values().stream().map(RunSummary.DatasetSummary::peakForgetting)
                        .filter(java.util.Objects::nonNull).max(Double::compare).orElse(null))).append(" |");
            }
            md.append(' ').append(meanSpread(ok, RunSummary::averageFinalLoss)).append(" | ").append(ok.size()).append(" / ")
              .append(v.getValue().size()).append(" |\n");
        }
        md.append("\nValues: mean ± half the range over seeds, nats per byte. *Forgetting*: final loss minus the loss at the end of the ")
          .append("last stage that trained on it, for the (first) dataset an earlier stage trained on and the last does not; *peak forgetting*: ")
          .append("the largest single evaluation above that loss since (the largest over such datasets). *Average final loss*: over the datasets ")
          .append("the run trains on. The runs are in the output directory's `").append(e.id()).append("/runs/`, and its `").append(e.id())
          .append("/report.md` draws every seed; the figures here are seed ").append(runs.stream().mapToLong(r -> r.plan().spec().seed()).min().orElse(1))
          .append("'s.\n\n");

        // The first seed's runs drawn as the paper draws them.
        long firstSeed = runs.stream().mapToLong(r -> r.plan().spec().seed()).min().orElse(1);
        List<VariantResult> first = runs.stream().filter(r -> r.plan().spec().seed() == firstSeed).toList();
        Path figures = out.resolve(FIGURES).resolve(e.id());
        Files.createDirectories(figures);
        SweepReport.write(figures, e.id() + " (seed " + firstSeed + ")", first);
        Figures.unavailable().ifPresent(reason -> md.append(Figures.note(reason)).append('\n'));
        try (Stream<Path> pngs = Files.list(figures)) {
            for (Path png : pngs.filter(p -> p.toString().endsWith(".png")).sorted().toList()) {
                String rel = FIGURES + "/" + e.id() + "/" + png.getFileName();
                md.append("![").append(e.id()).append(": ").append(png.getFileName()).append("](").append(rel).append(")\n\n");
            }
        }
    }

    static String meanSpread(List<RunSummary> runs, Function<RunSummary, Double> f) {
        List<Double> v = runs.stream().map(f).filter(java.util.Objects::nonNull).toList();
        if (v.isEmpty()) return "—";
        return v.size() == 1 ? number(v.getFirst()) : number(Rule.mean(v)) + " ± " + number(Rule.spread(v));
    }

    static String number(double v) {
        return Double.isNaN(v) ? "—" : String.format(Locale.ROOT, "%.4f", v);
    }

    static String signed(double v) {
        return Double.isNaN(v) ? "—" : String.format(Locale.ROOT, "%+.4f", v);
    }

    static String percent(double share) {
        return String.format(Locale.ROOT, "%.1f%%", share * 100).replace(".0%", "%");
    }

    static String cell(String s) {
        return s.replace("|", "\\|");
    }
}
