package dev.cpt.sweep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.cpt.TestSpecs;
import dev.cpt.data.DataSources;
import dev.cpt.metrics.RunSummary;
import dev.cpt.record.Json;
import dev.cpt.record.MetricsLog;
import dev.cpt.record.StepRecord;
import dev.cpt.report.VariantResult;
import dev.cpt.spec.SpecException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SweepRunnerTest {
    static final String EXTRA = """
        , "eval": { "every": 10, "batches": 2 }, "finalLoss": { "lastSteps": 20, "every": 5 },
          "checkpoint": { "every": 15, "keep": 1 }
        """;
    static final String BASE = TestSpecs.twoStage(40, 60, "\"replay\": { \"fraction\": 0.25, \"from\": { \"en\": 1 } }", EXTRA);
    static final DataSources DATA = TestSpecs.countingData(20_000, "en", "de");

    /** These tests are about parallel runs, resumes and failures as such: every run trains every step. */
    static final SharedStages NO_SHARING = SharedStages.none();

    @TempDir
    Path tmp;

    static SweepSpec sweep(String body) {
        return SweepSpec.read("{ \"name\": \"replay\", \"base\": " + BASE + ", " + body + " }", "sweep.json", Path.of("."));
    }

    /** Three runs: replay 0, 5% and 25%. */
    static final SweepSpec THREE = sweep("\"grid\": { \"stages[1].replay.fraction\": [0, 0.05, 0.25] }");

    /** Records every event and that no two came at once. */
    static final class Events implements SweepListener {
        final List<String> events = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger inside = new AtomicInteger();
        volatile boolean overlapped;
        volatile long done = -1, total = -1, startDone = -1;

        private void enter() {
            if (inside.incrementAndGet() > 1) overlapped = true;
        }

        private void leave() {
            inside.decrementAndGet();
        }

        @Override
        public void sweepStarted(List<String> variants, long done, long total) {
            enter();
            events.add("sweep " + variants.size());
            startDone = done;
            this.total = total;
            leave();
        }

        @Override
        public void variantSkipped(String variant) {
            events.add("skipped " + variant);
        }

        @Override
        public void variantStarted(String variant, long fromStep, long steps) {
            enter();
            events.add("started " + variant + " at " + fromStep);
            leave();
        }

        @Override
        public void stepDone(String variant, long variantDone, long done, long total) {
            enter();
            this.done = done;
            Thread.yield(); // give another run's step a chance to overlap, were calls not serialized
            leave();
        }

        @Override
        public void variantFinished(String variant, RunSummary summary) {
            events.add("finished " + variant);
        }

        @Override
        public void variantFailed(String variant, String error) {
            events.add("failed " + variant);
        }
    }

    @Test
    void runsEveryVariantInParallelIntoItsOwnRunDirectoryAndReports() throws IOException {
        Path out = tmp.resolve("out");
        TestEngine.Factory engines = new TestEngine.Factory();
        Events events = new Events();
        SweepResult r = SweepRunner.run(THREE, out, 2, engines, plan -> DATA, events, NO_SHARING);

        assertThat(r.ok()).isTrue();
        assertThat(r.variants()).extracting(VariantResult::name)
                .containsExactly("replay.fraction=0", "replay.fraction=0.05", "replay.fraction=0.25");
        for (VariantResult v : r.variants()) {
            Path dir = out.resolve("runs").resolve(v.name());
            assertThat(dir.resolve("summary.json")).exists();
            assertThat(dir.resolve("spec.json")).exists();
            assertThat(dir.resolve("checkpoints/step-00000100")).exists();
            assertThat(MetricsLog.read(dir.resolve("metrics.jsonl"))).hasSize(101);
            assertThat(v.summary().name()).isEqualTo("two-stage/" + v.name());
            assertThat(v.metrics()).hasSize(101);
        }
        assertThat(engines.created).containsExactlyInAnyOrder(
                "two-stage/replay.fraction=0", "two-stage/replay.fraction=0.05", "two-stage/replay.fraction=0.25");
        int cpus = Runtime.getRuntime().availableProcessors();
        assertThat(engines.threads).containsOnly(Math.max(1, cpus / 2));

        // the sweep as run, its base inlined, reads back as the same sweep
        SweepSpec asRun = SweepSpec.read(Files.readString(out.resolve("sweep.json")), "sweep.json", tmp);
        assertThat(asRun.variants()).extracting(SweepSpec.Variant::spec)
                .containsExactlyElementsOf(THREE.variants().stream().map(SweepSpec.Variant::spec).toList());

        // the listener heard every step, one call at a time
        assertThat(events.overlapped).isFalse();
        assertThat(events.startDone).isZero();
        assertThat(events.total).isEqualTo(300);
        assertThat(events.done).isEqualTo(300);
        assertThat(events.events).contains("sweep 3", "started replay.fraction=0 at 0", "finished replay.fraction=0.25");

        String md = Files.readString(out.resolve("report.md"));
        assertThat(md).contains("# Sweep replay", "| `replay.fraction=0` |", "| `replay.fraction=0.05` |",
                "forgetting en", "adaptation de", "![Learning-rate schedules](lr_schedules.png)", "(val_en.png)", "(val_de.png)",
                "(forgetting_adaptation.png)", "`stages[1].replay.fraction` = `0.05`");
        RunSummary s = r.variants().get(1).summary();
        assertThat(md).contains(String.format(java.util.Locale.ROOT, "%.4f", s.datasets().get("en").forgetting()));
        for (String png : List.of("lr_schedules.png", "val_en.png", "val_de.png", "forgetting_adaptation.png")) {
            assertValidPng(out.resolve(png));
        }
    }

    static void assertValidPng(Path png) throws IOException {
        assertThat(png).exists();
        byte[] bytes = Files.readAllBytes(png);
        assertThat(bytes).startsWith(0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n');
        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(image).isNotNull();
        assertThat(image.getWidth()).isGreaterThan(100);
    }

    @Test
    void aBadVariantStopsTheSweepBeforeAnythingRuns() {
        SpecException e = catchThrowableOfType(SpecException.class, () -> sweep("""
            "variants": { "fine": {}, "late-problem": { "stages[1].lr.warmupSteps": 500 } }
            """));
        assertThat(e).isNotNull();
        assertThat(e.problems()).anyMatch(p -> p.path().startsWith("#variant late-problem: stages[1].lr"));
        // there is no sweep to run: SweepRunner.run takes only a read (validated and planned) sweep
    }

    @Test
    void aRerunSkipsFinishedRunsAndResumesAnInterruptedOneExactly() throws IOException {
        // the uninterrupted reference
        Path ref = tmp.resolve("ref");
        SweepRunner.run(THREE, ref, 1, new TestEngine.Factory(), plan -> DATA, null, NO_SHARING);

        Path out = tmp.resolve("out");
        TestEngine.Factory first = new TestEngine.Factory();
        first.crashOnFirstUse.put("two-stage/replay.fraction=0.05", 52); // after the checkpoint at step 45
        SweepResult crashed = SweepRunner.run(THREE, out, 2, first, plan -> DATA, null, NO_SHARING);
        assertThat(crashed.failed()).extracting(VariantResult::name).containsExactly("replay.fraction=0.05");
        assertThat(crashed.failed().getFirst().error()).isEqualTo("IllegalStateException: simulated crash");
        Path dir = out.resolve("runs/replay.fraction=0.05");
        assertThat(Files.readString(dir.resolve("error.txt"))).startsWith("IllegalStateException: simulated crash\n");
        assertThat(dir.resolve("summary.json")).doesNotExist();
        assertThat(out.resolve("runs/replay.fraction=0/summary.json")).exists();

        TestEngine.Factory second = new TestEngine.Factory();
        Events events = new Events();
        SweepResult rerun = SweepRunner.run(THREE, out, 2, second, plan -> DATA, events, NO_SHARING);
        assertThat(rerun.ok()).isTrue();
        assertThat(second.created).containsExactly("two-stage/replay.fraction=0.05"); // the finished ones were not run
        assertThat(events.events).contains("skipped replay.fraction=0", "skipped replay.fraction=0.25",
                "started replay.fraction=0.05 at 45");
        assertThat(events.startDone).isEqualTo(100 + 100 + 45);
        assertThat(events.done).isEqualTo(300);
        assertThat(dir.resolve("error.txt")).doesNotExist();
        assertThat(rerun.variants()).extracting(VariantResult::skipped).containsExactly(true, false, true);

        for (String v : List.of("replay.fraction=0", "replay.fraction=0.05", "replay.fraction=0.25")) {
            assertThat(withoutTimings(out.resolve("runs").resolve(v))).as(v).isEqualTo(withoutTimings(ref.resolve("runs").resolve(v)));
            assertThat(Json.MAPPER.readTree(out.resolve("runs").resolve(v).resolve("summary.json").toFile()).get("datasets"))
                    .isEqualTo(Json.MAPPER.readTree(ref.resolve("runs").resolve(v).resolve("summary.json").toFile()).get("datasets"));
        }
        assertThat(rerun.variants().get(1).summary().datasets()).isEqualTo(
                Json.MAPPER.readValue(ref.resolve("runs/replay.fraction=0.05/summary.json").toFile(), RunSummary.class).datasets());
        assertThat(Files.readString(out.resolve("report.md"))).doesNotContain("failed");
    }

    static List<StepRecord> withoutTimings(Path runDir) throws IOException {
        return MetricsLog.read(runDir.resolve("metrics.jsonl")).stream().map(r -> new StepRecord(r.step(), r.stage(), r.tokens(), r.lr(),
                r.weightDecay(), r.loss(), r.gradNorm(), r.val(), null)).toList();
    }

    @Test
    void aVariantWhoseSpecChangedStopsTheRerunBeforeAnythingRuns() throws IOException {
        Path out = tmp.resolve("out");
        SweepRunner.run(THREE, out, 2, new TestEngine.Factory(), plan -> DATA, null);
        SweepSpec evalChanged = SweepSpec.read("{ \"name\": \"replay\", \"base\": " + BASE.replace("\"batches\": 2", "\"batches\": 3")
                + ", \"grid\": { \"stages[1].replay.fraction\": [0, 0.05, 0.25] } }", "sweep.json", Path.of("."));
        TestEngine.Factory engines = new TestEngine.Factory();
        assertThatThrownBy(() -> SweepRunner.run(evalChanged, out, 2, engines, plan -> DATA, null))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(out.resolve("runs/replay.fraction=0") + " holds a run of a different spec (eval.batches was 2, is 3)")
                .hasMessageContaining("Delete those directories")
                .hasMessageContaining("nothing was run");
        assertThat(engines.created).isEmpty();
    }

    @Test
    void divergingVariantsAreRecordedAndTheOthersFinish() throws IOException {
        SweepSpec s = sweep("\"variants\": { \"calm\": {}, \"hot\": { \"stages[1].lr.max\": 1e30 }, \"nan\": { \"seed\": 4 },"
                + " \"also-calm\": { \"seed\": 3 } }");
        Path out = tmp.resolve("out");
        Events events = new Events();
        TestEngine.Factory engines = new TestEngine.Factory();
        engines.nanFrom.put("two-stage/nan", 20);
        SweepResult r = SweepRunner.run(s, out, 2, engines, plan -> DATA, events, NO_SHARING);

        assertThat(r.ok()).isFalse();
        assertThat(r.failed()).extracting(VariantResult::name).containsExactly("hot", "nan");
        VariantResult nan = r.variant("nan");
        assertThat(nan.error()).startsWith("the run diverged at step 20: training loss NaN")
                .contains("the last good checkpoint is " + out.resolve("runs/nan/checkpoints/step-00000015"));
        assertThat(nan.summary()).isNull();
        assertThat(nan.metrics()).hasSize(20); // what it recorded before it stopped, for the plots
        assertThat(Files.readString(out.resolve("runs/nan/error.txt")).strip()).isEqualTo(nan.error());
        // a learning rate of 1e30 diverges for real (an infinite loss) soon after the re-warming
        assertThat(r.variant("hot").error()).startsWith("the run diverged at step 4").contains("training loss Infinity");
        assertThat(r.describeFailures()).startsWith("hot: the run diverged at step 4").contains("\nnan: the run diverged at step 20");
        assertThat(out.resolve("runs/calm/summary.json")).exists();
        assertThat(out.resolve("runs/also-calm/summary.json")).exists();
        assertThat(events.events).contains("failed hot", "failed nan", "finished calm", "finished also-calm");

        String md = Files.readString(out.resolve("report.md"));
        assertThat(md).contains("4 runs, 2 failed", "| `hot` (failed) |", "| `nan` (failed) |", "## Failed", "### `nan`",
                "the run diverged at step 20: training loss NaN", "| `calm` |", "| `also-calm` |", "`seed` = `3`");
        assertValidPng(out.resolve("val_de.png"));
    }

    @Test
    void dataThatCannotBeOpenedFailsOnlyItsRunAndBeforeAnyTraining() throws IOException {
        SweepSpec s = sweep("\"variants\": { \"a\": {}, \"b\": { \"seed\": 5 } }");
        TestEngine.Factory engines = new TestEngine.Factory();
        SweepResult r = SweepRunner.run(s, tmp.resolve("out"), 1, engines, plan -> {
            if (plan.spec().name().endsWith("/b")) throw new IOException("data/de/train.bin: no such file");
            return DATA;
        }, null);
        assertThat(r.failed()).extracting(VariantResult::name).containsExactly("b");
        assertThat(r.failed().getFirst().error()).isEqualTo("IOException: data/de/train.bin: no such file");
        assertThat(engines.created).containsExactly("two-stage/a");
        assertThat(tmp.resolve("out/runs/b/error.txt")).exists();
    }
}
