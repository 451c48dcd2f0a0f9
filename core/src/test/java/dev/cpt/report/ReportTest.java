package dev.cpt.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cpt.TestSpecs;
import dev.cpt.metrics.EvalPoint;
import dev.cpt.metrics.RunSummary;
import dev.cpt.plan.RunPlan;
import dev.cpt.record.AtomicFiles;
import dev.cpt.record.MetricsLog;
import dev.cpt.record.RunDirectory;
import dev.cpt.record.StepRecord;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reports from made-up records: losses that fall on the data trained and rise on the data left. */
class ReportTest {
    static final String EXTRA = """
        , "eval": { "every": 10, "batches": 2 }, "finalLoss": { "lastSteps": 20, "every": 5 }
        """;
    static final RunPlan TWO_STAGES = TestSpecs.plan(TestSpecs.twoStage(40, 60, "", EXTRA));
    static final RunPlan ONE_STAGE = TestSpecs.plan("""
        { "name": "one", "model": { "preset": "toy-xs" }, "batch": { "sequences": 4, "seqLen": 16 },
          "datasets": { "en": { "train": "en.bin", "val": "en-val.bin" } },
          "stages": [ { "name": "only", "steps": 50, "mix": { "en": 1 }, "lr": { "type": "constant", "value": 3e-4 } } ],
          "eval": { "every": 10, "batches": 1 }, "finalLoss": { "lastSteps": 10, "every": 5 } }
        """);

    @TempDir
    Path tmp;

    /** Metrics as the loop would record them; {@code sharpness} scales how fast losses move. */
    static List<StepRecord> metrics(RunPlan plan, double sharpness, long upTo) {
        List<StepRecord> out = new ArrayList<>();
        double[] loss = new double[plan.datasetNames().size()];
        java.util.Arrays.fill(loss, 5.0);
        for (long step = 0; step <= Math.min(upTo, plan.totalSteps()); step++) {
            Map<String, Double> val = null;
            if (step % 5 == 0 || step == plan.totalSteps()) {
                val = new LinkedHashMap<>();
                for (int d = 0; d < loss.length; d++) val.put(plan.datasetNames().get(d), loss[d]);
            }
            if (step == plan.totalSteps()) {
                out.add(new StepRecord(step, plan.stages().getLast().name(), step * plan.tokensPerStep(), null, null, null, null, val, null));
                break;
            }
            var stage = plan.stageAt(step);
            for (int d = 0; d < loss.length; d++) {
                boolean trained = stage.trainsOn(plan.datasetNames().get(d));
                loss[d] = trained ? 1 + (loss[d] - 1) * (1 - 0.05 * sharpness) : loss[d] + 0.004 * sharpness;
            }
            out.add(new StepRecord(step, stage.name(), step * plan.tokensPerStep(), plan.lrAt(step), plan.weightDecayAt(step),
                    loss[0], 1.0, val, 1000.0));
        }
        return out;
    }

    static RunSummary summary(RunPlan plan, List<StepRecord> metrics) {
        List<EvalPoint> evals = metrics.stream().filter(r -> r.val() != null).map(r -> new EvalPoint(r.step(), r.val())).toList();
        return RunSummary.compute(plan, evals, 1.5);
    }

    static VariantResult ok(String name, RunPlan plan, double sharpness) {
        List<StepRecord> m = metrics(plan, sharpness, Long.MAX_VALUE);
        return new VariantResult(name, Map.of(), plan, summary(plan, m), m, null, false);
    }

    static void assertPng(Path png) throws IOException {
        assertThat(png).exists();
        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(image).as(png.toString()).isNotNull();
        assertThat(image.getWidth()).isGreaterThanOrEqualTo(Charts.WIDTH);
    }

    @Test
    void aSweepReportHasARowPerRunItsErrorsAndAPlotPerDataset() throws IOException {
        List<StepRecord> partial = metrics(TWO_STAGES, 3, 47);
        List<VariantResult> results = List.of(ok("slow", TWO_STAGES, 1), ok("fast", TWO_STAGES, 2),
                new VariantResult("broken", Map.of(), TWO_STAGES, null, partial, "the run diverged at step 48: training loss NaN\nsecond line", false));
        Path md = SweepReport.write(tmp, "demo", results);

        String text = Files.readString(md);
        RunSummary fast = results.get(1).summary();
        assertThat(text).contains("# Sweep demo", "3 runs, 1 failed",
                "| variant | final en | final de | forgetting en | adaptation de | average final loss |",
                "| `fast` | " + SweepReport.number(fast.datasets().get("en").finalLoss()) + " | "
                        + SweepReport.number(fast.datasets().get("de").finalLoss()) + " | "
                        + SweepReport.number(fast.datasets().get("en").forgetting()) + " | "
                        + SweepReport.number(fast.datasets().get("de").adaptation()) + " | ",
                "| `broken` (failed) | — | — | — | — | failed |",
                "### `broken`\n\n```text\nthe run diverged at step 48: training loss NaN\nsecond line\n```",
                "![Validation loss on en](val_en.png)", "![Validation loss on de](val_de.png)",
                "![Forgetting of en against adaptation to de](forgetting_adaptation.png)");
        // rows in the order given, the best average in bold
        assertThat(text.indexOf("| `slow`")).isLessThan(text.indexOf("| `fast`"));
        assertThat(text.indexOf("| `fast`")).isLessThan(text.indexOf("| `broken`"));
        double best = Math.min(results.get(0).summary().averageFinalLoss(), fast.averageFinalLoss());
        assertThat(text).contains("**" + SweepReport.number(best) + "**");
        for (String png : List.of("lr_schedules.png", "val_en.png", "val_de.png", "forgetting_adaptation.png")) assertPng(tmp.resolve(png));
        try (Stream<Path> files = Files.list(tmp)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp")); // written whole, then renamed
        }
    }

    @Test
    void benchmarkScoresStandInTheRunAndSweepReports() throws IOException {
        List<StepRecord> m = metrics(TWO_STAGES, 1, Long.MAX_VALUE);
        List<EvalPoint> evals = m.stream().filter(r -> r.val() != null).map(r -> new EvalPoint(r.step(), r.val())).toList();
        Map<Long, Map<String, Map<String, Double>>> scores = Map.of(
                0L, Map.of("hellaswag", Map.of("acc,none", 0.25, "acc_stderr,none", 0.1)),
                TWO_STAGES.stages().getFirst().end(), Map.of("hellaswag", Map.of("acc,none", 0.5, "acc_stderr,none", 0.1)),
                TWO_STAGES.totalSteps(), Map.of("hellaswag", Map.of("acc,none", 0.375, "acc_stderr,none", 0.1)));
        RunSummary s = RunSummary.compute(TWO_STAGES, evals, scores, 1.0);
        assertThat(s.tasks().get("hellaswag").changeFromFirstStageEnd()).containsExactly(Map.entry("acc,none", -0.125));
        assertThat(s.tasks().get("hellaswag").changeFromStart()).containsExactly(Map.entry("acc,none", 0.125));

        String sweep = Files.readString(SweepReport.write(tmp.resolve("sweep"), "demo",
                List.of(new VariantResult("a", Map.of(), TWO_STAGES, s, m, null, false))));
        assertThat(sweep).contains("| hellaswag acc | Δ hellaswag acc |").contains("| 0.3750 | -0.1250 |");
        String run = Files.readString(RunReport.write(tmp.resolve("run"), TWO_STAGES, s, m));
        assertThat(run).contains("| hellaswag | acc | 0.2500 ± 0.1000 | 0.5000 ± 0.1000 | 0.3750 ± 0.1000 | +0.1250 | -0.1250 |");
    }

    @Test
    void oneStageHasNoForgettingNorScatterAndRunsWithoutRecordsDrawNoLine() throws IOException {
        List<VariantResult> results = List.of(ok("a", ONE_STAGE, 1),
                new VariantResult("b", Map.of(), ONE_STAGE, null, List.of(), "IOException: en.bin: no such file", false));
        String text = Files.readString(SweepReport.write(tmp, results));
        assertThat(text).contains("# Sweep report", "| variant | final en | adaptation en | average final loss |",
                        "| `b` (failed) | — | — | failed |")
                .doesNotContain("forgetting en", "forgetting_adaptation.png");
        assertThat(tmp.resolve("forgetting_adaptation.png")).doesNotExist();
        assertPng(tmp.resolve("val_en.png"));
        assertPng(tmp.resolve("lr_schedules.png"));
    }

    @Test
    void datasetNamesBecomeSafeFileNames() {
        assertThat(SweepReport.valPng("en")).isEqualTo("val_en.png");
        assertThat(SweepReport.valPng("slim pajama/cc")).isEqualTo("val_slim_pajama_cc.png");
    }

    @Test
    void aRunReportReadsTheRunDirectory() throws IOException {
        Path dir = tmp.resolve("run");
        RunDirectory run = RunDirectory.create(dir, TWO_STAGES.spec());
        List<StepRecord> m = metrics(TWO_STAGES, 1, Long.MAX_VALUE);
        try (MetricsLog log = MetricsLog.append(run.metrics())) {
            for (StepRecord r : m) log.write(r);
        }
        RunSummary s = summary(TWO_STAGES, m);
        AtomicFiles.writeJson(run.summary(), s);

        Path md = RunReport.write(dir);
        String text = Files.readString(md);
        assertThat(text).contains("# Run two-stage", "100 steps of 128 tokens (12.8k tokens) in 2 stages",
                "| pretrain | 0–39 | 5.12k | en 100% |", "| continue | 40–99 | 7.68k | de 100%; optimizer reset |",
                "| dataset | final loss | end of pretrain | end of continue | forgetting | peak forgetting | adaptation |",
                "| en | " + SweepReport.number(s.datasets().get("en").finalLoss()),
                "Average final loss: **" + SweepReport.number(s.averageFinalLoss()) + "**",
                "![Learning rate and weight decay](lr.png)", "![Validation loss](val.png)");
        assertPng(dir.resolve("lr.png"));
        assertPng(dir.resolve("val.png"));
    }

    @Test
    void withoutFontsTheReportsKeepTheirNumbersAndSayWhyTheFiguresAreMissing() throws IOException {
        // A bare GPU server: Java's first text rendering throws "Fontconfig head is null".
        Figures.overrideForTest("Fontconfig head is null, check your fonts or fonts configuration");
        try {
            List<StepRecord> m = metrics(TWO_STAGES, 1, Long.MAX_VALUE);
            Path run = Files.createDirectories(tmp.resolve("run"));
            String text = Files.readString(RunReport.write(run, TWO_STAGES, summary(TWO_STAGES, m), m));
            assertThat(text).contains("| dataset | final loss |", "Average final loss",
                            "_Figures not drawn: Java cannot render text on this machine (Fontconfig head is null",
                            "apt-get install fontconfig fonts-dejavu-core")
                    .doesNotContain("![");
            assertThat(run.resolve("lr.png")).doesNotExist();
            assertThat(run.resolve("val.png")).doesNotExist();

            Path sweep = Files.createDirectories(tmp.resolve("sweep"));
            String sweepText = Files.readString(SweepReport.write(sweep, "demo", List.of(ok("a", TWO_STAGES, 1))));
            assertThat(sweepText).contains("| `a` |", "_Figures not drawn:").doesNotContain("![");
            try (Stream<Path> files = Files.list(sweep)) {
                assertThat(files.map(p -> p.getFileName().toString())).containsExactly("report.md");
            }
        } finally {
            Figures.overrideForTest(null);
        }
        assertThat(Figures.unavailable()).isEmpty(); // this machine has fonts (.ci/run installs them)
    }

    @Test
    void anUnfinishedRunGetsItsPlotsAndANote() throws IOException {
        List<StepRecord> m = metrics(TWO_STAGES, 1, 57);
        String text = Files.readString(RunReport.write(tmp, TWO_STAGES, null, m));
        assertThat(text).contains("**Unfinished**: no `summary.json` yet; the metrics reach step 57 of 100.")
                .doesNotContain("Average final loss");
        assertPng(tmp.resolve("val.png"));
    }

    @Test
    void schedulesOfLongRunsAreReducedButKeepTheirPeaksAndJumps() {
        RunPlan long_ = TestSpecs.plan(TestSpecs.twoStage(30_000, 50_000, "", ""));
        Charts.Curve c = Charts.schedule(long_, long_::lrAt);
        assertThat(c.x().length).isLessThan(5000);
        double max = 0;
        for (long step = 0; step < long_.totalSteps(); step++) max = Math.max(max, long_.lrAt(step));
        assertThat(Charts.max(c.y())).isEqualTo(max);
        // the re-warming starts at 0 at the boundary, and the point before it is the first stage's last
        int at = java.util.Arrays.binarySearch(c.x(), 30_000.0 * long_.tokensPerStep());
        assertThat(at).isPositive();
        assertThat(c.y()[at]).isEqualTo(long_.lrAt(30_000));
        assertThat(c.y()[at - 1]).isEqualTo(long_.lrAt(29_999));
    }
}
