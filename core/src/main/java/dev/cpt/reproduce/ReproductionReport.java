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

    static Path write(Path out, Reproduction.Options o, Map<Reproduction.Part, List<VariantResult>> results, Outcomes outcomes,
                      Map<ModelScale, List<Claim.Result>> claims, Claim.Result c14, List<Transfer.Row> transfer,
                      List<String> failures, double minutes, long sharedSteps) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append("# Reproducing PAPER.md on the simulator\n\n");
        md.append("Made by `").append(o.command()).append("` (step scale ").append(number(o.scale())).append(", seeds 1–")
          .append(o.seeds()).append(", models ").append(String.join(" and ", o.models().stream().map(ModelScale::name).toList()))
          .append(", ").append(o.jobs()).append(o.jobs() == 1 ? " job" : " jobs").append("); this invocation took ")
          .append(String.format(Locale.ROOT, "%.1f", minutes)).append(" min");
        if (sharedSteps > 0) md.append(String.format(Locale.ROOT, ", in which shared stages spared %,d training steps", sharedSteps));
        md.append(" (finished runs are reused, so a rerun is quick).\n\n");
        method(md, o, results, outcomes);
        claimsTable(md, o, claims, c14);
        transferTable(md, o, transfer);
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
    private static String withSyntheticNotice(Map<Reproduction.Part, List<VariantResult>> results, String markdown) {
        return dev.cpt.report.SyntheticDataNotice.prepend(results.values().stream().flatMap(List::stream).toList(), markdown);
    }

    /** The share of the first stage over which {@link Outcomes.Run#boundarySlope} is fitted. */
    static final double SLOPE_WINDOW = 0.2;

    private static void method(StringBuilder md, Reproduction.Options o, Map<Reproduction.Part, List<VariantResult>> results,
                               Outcomes outcomes) {
        md.append("## Method\n\n");
        for (ModelScale m : o.models()) {
            RunPlan example = results.entrySet().stream().filter(e -> e.getKey().model().equals(m)).flatMap(e -> e.getValue().stream())
                    .map(VariantResult::plan).filter(java.util.Objects::nonNull).findFirst().orElse(null);
            if (example == null) continue;
            var shape = example.spec().model().shape();
            md.append("- Model").append(m.isFirst() ? "" : " at scale `" + m.name() + "`").append(": `").append(m.preset())
              .append("` (").append(shape.arch()).append(", ").append(shape.layers()).append(" layers, d ").append(shape.dModel())
              .append(", ").append(shape.heads()).append(" heads, context ").append(shape.contextLength()).append(", byte vocabulary ")
              .append(shape.vocabSize()).append(String.format(Locale.ROOT, ", %,d parameters", dev.cpt.plan.ModelSize.parameters(shape)))
              .append("), batch ").append(example.spec().batch().sequences()).append(" × ")
              .append(example.spec().batch().seqLen()).append(" tokens, AdamW β1 0.9, β2 0.95, weight decay 0.1, clip 1.0, optimizer reset at every dataset boundary");
            if (!m.isFirst()) {
                md.append("; runs ").append(String.join(", ", m.experiments().stream().map(id -> "`" + id + "`").toList()));
                if (m.pretrainSteps() == 0) md.append(" with the same steps, batch, rates and seeds as `").append(ModelScale.TOY_XS.name()).append('`');
                if (m.about() != null) md.append(" (").append(m.about()).append(')');
            }
            md.append(".\n");
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
        if (!o.comparesScales()) md.append("- C14 (larger models forget less) and the transfer table need the scales `toy-xs` and `toy-s`; this run did not have both.\n");
        md.append('\n');
        boundary(md, o, outcomes);
    }

    /**
     * How far pre-training had converged at the boundary, per scale: D0's loss at the end of the
     * pre-training stage and the slope of its validation loss over the stage's last 20%. A claim about
     * continued training (C2, C7, C8) means more when this slope is near zero.
     */
    private static void boundary(StringBuilder md, Reproduction.Options o, Outcomes outcomes) {
        List<String[]> rows = new ArrayList<>();
        for (ModelScale m : o.models()) {
            for (String shift : Claims.SHIFTS) {
                String v = shift + "-redecay-1x";
                List<Double> loss = new ArrayList<>(), slope = new ArrayList<>();
                for (long s : outcomes.seeds()) {
                    Outcomes.Run r = outcomes.get(m.key("rewarm"), v, s);
                    if (r == null) continue;
                    Double l = r.firstStageEndLoss(Claims.D0), k = r.boundarySlope(Claims.D0, SLOPE_WINDOW);
                    if (l != null && k != null) {
                        loss.add(l);
                        slope.add(k);
                    }
                }
                if (slope.isEmpty()) continue;
                long steps = outcomes.seeds().stream().map(s -> outcomes.get(m.key("rewarm"), v, s)).filter(java.util.Objects::nonNull)
                        .findFirst().map(Outcomes.Run::firstStageSteps).orElse(0L);
                List<Double> change = slope.stream().map(k -> k * SLOPE_WINDOW * steps / 1000).toList();
                rows.add(new String[] {m.name(), "`" + v + "`", String.format(Locale.ROOT, "%,d", steps), meanSpread(loss),
                        signedMeanSpread(slope), signedMeanSpread(change),
                        String.format(Locale.ROOT, "%.2f%%", 100 * Rule.mean(change) / Rule.mean(loss))});
            }
        }
        if (rows.isEmpty()) return;
        md.append("### Pre-training at the boundary\n\nD0 (`en`) at the end of the pre-training stage, in the `rewarm` runs: its final-loss window there, ")
          .append("and the least-squares slope of its validation loss over the stage's last ").append(percent(SLOPE_WINDOW))
          .append(" of steps, in nats per 1,000 steps and as the change it makes over that window (also as a share of the loss). Near zero: ")
          .append("pre-training had stopped improving, so what changes after the boundary is continued pre-training's doing (the premise of C2, ")
          .append("C7 and C8). A cosine schedule still lowers the loss as it anneals, so the window's change does not reach zero; a longer ")
          .append("pre-training shows how much of it is annealing. The runs of one scale share pre-training, so the two shifts' rows agree.\n\n")
          .append("| scale | run | pre-training steps | D0 loss at the boundary | slope per 1,000 steps | change over the last ")
          .append(percent(SLOPE_WINDOW)).append(" | change / loss |\n|---|---|---:|---:|---:|---:|---:|\n");
        for (String[] r : rows) md.append("| ").append(String.join(" | ", r)).append(" |\n");
        md.append('\n');
    }

    private static void claimsTable(StringBuilder md, Reproduction.Options o, Map<ModelScale, List<Claim.Result>> claims, Claim.Result c14) {
        List<ModelScale> models = o.models();
        // Every claim some scale judged, in the claims' order.
        List<Claim.Result> rows = new ArrayList<>();
        for (Claim claim : Claims.all()) {
            models.stream().flatMap(m -> claims.get(m).stream()).filter(x -> x.claim().id().equals(claim.id())).findFirst().ifPresent(rows::add);
        }
        md.append("## Claims\n\n| claim | statement |");
        for (ModelScale m : models) md.append(" ").append(m.name()).append(": reproduced | ").append(m.name()).append(": verdict |");
        md.append("\n|---|---|").append("---:|---|".repeat(models.size())).append('\n');
        for (Claim.Result c : rows) {
            md.append("| ").append(c.claim().id()).append(" | ").append(cell(c.claim().statement())).append(" |");
            for (ModelScale m : models) {
                Claim.Result at = claims.get(m).stream().filter(x -> x.claim().id().equals(c.claim().id())).findFirst().orElse(null);
                md.append(at == null ? " — | not run |" : " " + counts(at) + " | **" + at.verdict() + "** |");
            }
            md.append('\n');
        }
        md.append("| C14 | ").append(cell(c14 != null ? c14.claim().statement() : "Larger models forget less."));
        if (c14 == null) {
            md.append(" | — | needs toy-xs and toy-s |").append(" — | — |".repeat(models.size() - 1)).append('\n');
        } else {
            // In toy-s's columns: it is toy-s against toy-xs.
            md.append(" (toy-s against toy-xs) |");
            for (ModelScale m : models) {
                md.append(m.equals(ModelScale.TOY_S) ? " " + counts(c14) + " | **" + c14.verdict() + "** |" : " — | — |");
            }
            md.append('\n');
        }
        md.append('\n');
        for (Claim.Result c : rows) {
            for (ModelScale m : models) {
                claims.get(m).stream().filter(x -> x.claim().id().equals(c.claim().id())).findFirst()
                        .ifPresent(at -> claimDetail(md, at, m.name()));
            }
        }
        if (c14 != null) claimDetail(md, c14, "toy-s against toy-xs");
    }

    private static String counts(Claim.Result c) {
        long ok = c.comparisons().stream().filter(r -> r.verdict() == Verdict.REPRODUCED).count();
        return ok + " / " + c.comparisons().size();
    }

    private static void claimDetail(StringBuilder md, Claim.Result c, String where) {
        md.append("### ").append(c.claim().id()).append(" at ").append(where).append(": ").append(c.verdict()).append("\n\n")
          .append(c.claim().statement()).append(" Compared: ").append(c.claim().comparison()).append("\n\n");
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

    private static void transferTable(StringBuilder md, Reproduction.Options o, List<Transfer.Row> rows) {
        if (rows.isEmpty()) return;
        String small = ModelScale.TOY_XS.name(), large = ModelScale.TOY_S.name();
        md.append("## Transfer across scale\n\nDoes a ranking made at `").append(small).append("` hold at `").append(large)
          .append("`? For the §6.1 (`rewarm`) and §6.2 (`replay`) variants of each shift that ran at both scales, ranked best (lowest) first ")
          .append("by the mean over seeds; Kendall's τ-b between the scales' values, per seed (the same seed's runs: the same data order), ")
          .append("with its mean and half-range; and whether the best variant is the same. τ = 1: the same order; 0: unrelated; −1: reversed. ")
          .append("Variants without the quantity (no forgetting for baselines that end on D0) are left out of its row.\n\n")
          .append("| experiment | shift | ranked by | ranking at ").append(small).append(" | ranking at ").append(large)
          .append(" | τ per seed | τ mean ± spread | same best |\n|---|---|---|---|---|---|---:|---|\n");
        for (Transfer.Row r : rows) {
            List<String> perSeed = new ArrayList<>();
            for (int i = 0; i < r.seeds().size(); i++) perSeed.add(r.seeds().get(i) + ": " + signed(r.tau().get(i)));
            md.append("| `").append(r.experiment()).append("` | ").append(r.shift()).append(" | ").append(r.quantity()).append(" | ")
              .append(String.join(" < ", r.smallRanking())).append(" | ").append(String.join(" < ", r.largeRanking())).append(" | ")
              .append(r.why() != null ? r.why() : String.join(", ", perSeed)).append(" | ")
              .append(r.tau().isEmpty() ? "—" : signed(r.meanTau()) + " ± " + number(r.spreadTau())).append(" | ")
              .append(r.smallRanking().isEmpty() ? "—" : r.sameBest() ? "yes (`" + r.smallRanking().getFirst() + "`)"
                      : "no (`" + r.smallRanking().getFirst() + "` / `" + r.largeRanking().getFirst() + "`)").append(" |\n");
        }
        md.append('\n');
    }

    private static void experiment(StringBuilder md, Path out, Reproduction.Part part, List<VariantResult> runs) throws IOException {
        Experiment e = part.experiment();
        String key = part.key();
        md.append("## ").append(e.section()).append(" ").append(e.title()).append(" (`").append(e.id()).append("`, ")
          .append(part.model().name()).append(")\n\n");
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
          .append("the run trains on. The runs are in the output directory's `").append(key).append("/runs/`, and its `").append(key)
          .append("/report.md` draws every seed; the figures here are seed ").append(runs.stream().mapToLong(r -> r.plan().spec().seed()).min().orElse(1))
          .append("'s.\n\n");

        // The first seed's runs drawn as the paper draws them.
        long firstSeed = runs.stream().mapToLong(r -> r.plan().spec().seed()).min().orElse(1);
        List<VariantResult> first = runs.stream().filter(r -> r.plan().spec().seed() == firstSeed).toList();
        Path figures = out.resolve(FIGURES).resolve(key);
        Files.createDirectories(figures);
        SweepReport.write(figures, key + " (seed " + firstSeed + ")", first);
        Figures.unavailable().ifPresent(reason -> md.append(Figures.note(reason)).append('\n'));
        try (Stream<Path> pngs = Files.list(figures)) {
            for (Path png : pngs.filter(p -> p.toString().endsWith(".png")).sorted().toList()) {
                String rel = FIGURES + "/" + key + "/" + png.getFileName();
                md.append("![").append(key).append(": ").append(png.getFileName()).append("](").append(rel).append(")\n\n");
            }
        }
    }

    static String meanSpread(List<RunSummary> runs, Function<RunSummary, Double> f) {
        List<Double> v = runs.stream().map(f).filter(java.util.Objects::nonNull).toList();
        if (v.isEmpty()) return "—";
        return v.size() == 1 ? number(v.getFirst()) : number(Rule.mean(v)) + " ± " + number(Rule.spread(v));
    }

    static String meanSpread(List<Double> v) {
        return v.size() == 1 ? number(v.getFirst()) : number(Rule.mean(v)) + " ± " + number(Rule.spread(v));
    }

    static String signedMeanSpread(List<Double> v) {
        return v.size() == 1 ? signed(v.getFirst()) : signed(Rule.mean(v)) + " ± " + number(Rule.spread(v));
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
