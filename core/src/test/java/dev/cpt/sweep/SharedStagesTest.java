package dev.cpt.sweep;

import static dev.cpt.sweep.SweepRunnerTest.withoutTimings;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cpt.TestSpecs;
import dev.cpt.data.DataSources;
import dev.cpt.plan.RunPlan;
import dev.cpt.record.Json;
import dev.cpt.record.MetricsLog;
import dev.cpt.report.VariantResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SharedStagesTest {
    static final DataSources DATA = SweepRunnerTest.DATA;
    static final SweepSpec THREE = SweepRunnerTest.THREE; // replay 0, 5%, 25% in stage 1: stage 0 is the same

    @TempDir
    Path tmp;

    /** Records which runs started where and which shared. */
    static final class Starts implements SweepListener {
        final List<String> events = Collections.synchronizedList(new ArrayList<>());
        long total = -1;

        @Override
        public void sweepStarted(List<String> variants, long done, long total) {
            this.total = total;
        }

        @Override
        public void variantShared(String variant, Path fromRun, String stage, long steps) {
            events.add(variant + " from " + fromRun.getFileName() + " at " + stage + " " + steps);
        }

        @Override
        public void variantStarted(String variant, long fromStep, long steps) {
            events.add("started " + variant + " at " + fromStep);
        }
    }

    @Test
    void runsThatAgreeUpToAStageEndTrainItOnceAndKeepTheRecordsOfTrainingAlone() throws IOException {
        Path alone = tmp.resolve("alone");
        SweepRunner.run(THREE, alone, 1, new TestEngine.Factory(), plan -> DATA, null, SharedStages.none());

        Path out = tmp.resolve("out");
        Starts starts = new Starts();
        SweepResult r = SweepRunner.run(THREE, out, 2, new TestEngine.Factory(), plan -> DATA, starts);
        assertThat(r.ok()).isTrue();
        // one run trains the 40 pre-training steps; the two others start from its stage end
        assertThat(r.sharedSteps()).isEqualTo(80);
        assertThat(starts.total).isEqualTo(300 - 80);
        assertThat(starts.events).contains("started replay.fraction=0 at 0",
                "replay.fraction=0.05 from replay.fraction=0 at pretrain 40", "started replay.fraction=0.05 at 40",
                "replay.fraction=0.25 from replay.fraction=0 at pretrain 40", "started replay.fraction=0.25 at 40");
        for (String v : List.of("replay.fraction=0", "replay.fraction=0.05", "replay.fraction=0.25")) {
            Path run = out.resolve("runs").resolve(v);
            assertThat(withoutTimings(run)).as(v).hasSize(101).isEqualTo(withoutTimings(alone.resolve("runs").resolve(v)));
            assertThat(Json.MAPPER.readTree(run.resolve("summary.json").toFile()).get("datasets")).as(v)
                    .isEqualTo(Json.MAPPER.readTree(alone.resolve("runs").resolve(v).resolve("summary.json").toFile()).get("datasets"));
            assertThat(run.resolve("checkpoints/step-00000040/loop.json")).exists();
        }
        SharedStages.Note note = Json.MAPPER.readValue(out.resolve("runs/replay.fraction=0.25/shared.json").toFile(), SharedStages.Note.class);
        assertThat(note.stage()).isEqualTo("pretrain");
        assertThat(note.step()).isEqualTo(40);
        assertThat(Path.of(note.from())).isEqualTo(out.resolve("runs/replay.fraction=0").toAbsolutePath().normalize());
        assertThat(out.resolve("runs/replay.fraction=0/shared.json")).doesNotExist();
        // a rerun has nothing left to do
        TestEngine.Factory again = new TestEngine.Factory();
        SweepRunner.run(THREE, out, 2, again, plan -> DATA, null);
        assertThat(again.created).isEmpty();
    }

    @Test
    void keysAgreeExactlyAsFarAsTheTrainingDoes() {
        String base = SweepRunnerTest.BASE;
        RunPlan a = TestSpecs.plan(base);
        RunPlan renamed = TestSpecs.plan(base.replace("\"two-stage\"", "\"other-name\""));
        RunPlan stage1 = TestSpecs.plan(base.replace("\"fraction\": 0.25", "\"fraction\": 0.5"));
        RunPlan seed = TestSpecs.plan(base.replace("\"seed\": 11", "\"seed\": 12"));
        RunPlan warmup0 = TestSpecs.plan(base.replace("\"warmup\": 0.1", "\"warmup\": 0.2"));
        RunPlan checkpoints = TestSpecs.plan(base.replace("\"every\": 15, \"keep\": 1", "\"every\": 7, \"keep\": 3"));
        RunPlan evalEvery = TestSpecs.plan(base.replace("\"every\": 10, \"batches\": 2", "\"every\": 20, \"batches\": 2"));
        RunPlan longer1 = TestSpecs.plan(SweepRunnerTest.BASE.replace("\"steps\": 60", "\"steps\": 80"));

        assertThat(SharedStages.keys(renamed)).isEqualTo(SharedStages.keys(a));
        assertThat(SharedStages.keys(checkpoints)).isEqualTo(SharedStages.keys(a));
        for (RunPlan p : List.of(stage1, longer1)) {
            assertThat(SharedStages.keys(p).get(0)).isEqualTo(SharedStages.keys(a).get(0));
            assertThat(SharedStages.keys(p).get(1)).isNotEqualTo(SharedStages.keys(a).get(1));
        }
        for (RunPlan p : List.of(seed, warmup0, evalEvery)) {
            assertThat(SharedStages.keys(p).get(0)).isNotEqualTo(SharedStages.keys(a).get(0));
        }
    }

    /** A run-level schedule spans every stage: two runs agree on stage 0 only if its rates there agree. */
    @Test
    void aScheduleAcrossStagesIsComparedByTheRatesOfTheSharedSteps() {
        String runLevel = """
            { "name": "inf", "seed": 3, "model": { "preset": "toy-xs" }, "batch": { "sequences": 8, "seqLen": 16 },
              "datasets": { "en": { "train": "en.bin", "val": "en-val.bin" }, "de": { "train": "de.bin", "val": "de-val.bin" } },
              "lr": { "type": "infinite", "max": 0.01, "const": 0.005, "min": 0.001, "warmupSteps": 4, "cooldownSteps": 20, "annealSteps": %d },
              "stages": [ { "name": "a", "steps": 40, "mix": { "en": 1.0 } },
                          { "name": "b", "steps": %d, "mix": { "de": 1.0 } } ] }
            """;
        RunPlan a = TestSpecs.plan(runLevel.formatted(10, 60));
        RunPlan sameRatesInStageA = TestSpecs.plan(runLevel.formatted(10, 80)); // anneal moves, stage a's rates do not
        RunPlan cosineOverBoth = TestSpecs.plan(runLevel.formatted(10, 60)
                .replace("\"type\": \"infinite\", \"max\": 0.01, \"const\": 0.005, \"min\": 0.001, \"warmupSteps\": 4, \"cooldownSteps\": 20, \"annealSteps\": 10",
                        "\"type\": \"cosine\", \"max\": 0.01, \"min\": 0.001, \"warmupSteps\": 4"));
        RunPlan cosineLonger = TestSpecs.plan(runLevel.formatted(10, 80)
                .replace("\"type\": \"infinite\", \"max\": 0.01, \"const\": 0.005, \"min\": 0.001, \"warmupSteps\": 4, \"cooldownSteps\": 20, \"annealSteps\": 10",
                        "\"type\": \"cosine\", \"max\": 0.01, \"min\": 0.001, \"warmupSteps\": 4"));
        assertThat(SharedStages.keys(sameRatesInStageA).get(0)).isEqualTo(SharedStages.keys(a).get(0));
        // a cosine over the whole run decays differently through stage a when the run is longer
        assertThat(SharedStages.keys(cosineLonger).get(0)).isNotEqualTo(SharedStages.keys(cosineOverBoth).get(0));
    }

    @Test
    void aThreeStageSweepSharesAsDeepAsEachPairAgrees() throws IOException {
        String three = """
            { "name": "three", "seed": 5, "model": { "preset": "toy-xs" }, "batch": { "sequences": 8, "seqLen": 16 },
              "datasets": { "en": { "train": "en.bin", "val": "en-val.bin" }, "de": { "train": "de.bin", "val": "de-val.bin" } },
              "eval": { "every": 10, "batches": 2 }, "finalLoss": { "lastSteps": 10, "every": 5 },
              "stages": [
                { "name": "s0", "steps": 30, "mix": { "en": 1.0 }, "lr": { "type": "cosine", "max": 0.01, "min": 0.001, "warmupSteps": 3 } },
                { "name": "s1", "steps": 30, "mix": { "de": 1.0 }, "resetOptimizer": true,
                  "lr": { "type": "cosine", "max": 0.01, "min": 0.001, "warmupSteps": 3 } },
                { "name": "s2", "steps": 30, "mix": { "en": 0.5, "de": 0.5 },
                  "lr": { "type": "constant", "value": 0.001 } } ] }
            """;
        SweepSpec sweep = SweepSpec.read("""
            { "name": "deep", "base": %s, "variants": {
                "a": {},
                "b": { "stages[2].lr.value": 0.002 },
                "c": { "stages[1].lr.max": 0.02 },
                "d": { "stages[1].lr.max": 0.02, "stages[2].mix": { "de": 1.0 } } } }
            """.formatted(three), "sweep.json", Path.of("."));
        Path alone = tmp.resolve("alone");
        SweepRunner.run(sweep, alone, 1, new TestEngine.Factory(), plan -> DATA, null, SharedStages.none());
        Path out = tmp.resolve("out");
        Starts starts = new Starts();
        SweepResult r = SweepRunner.run(sweep, out, 2, new TestEngine.Factory(), plan -> DATA, starts);
        assertThat(r.ok()).isTrue();
        assertThat(starts.events).contains("b from a at s1 60", "c from a at s0 30", "d from c at s1 60");
        assertThat(r.sharedSteps()).isEqualTo(60 + 30 + 60);
        for (VariantResult v : r.variants()) {
            assertThat(withoutTimings(out.resolve("runs").resolve(v.name()))).as(v.name())
                    .hasSize(91).isEqualTo(withoutTimings(alone.resolve("runs").resolve(v.name())));
        }
    }

    @Test
    void whenTheRunToShareFromFailsBeforeItsStageEndTheOthersTrainItThemselves() throws IOException {
        Path alone = tmp.resolve("alone");
        SweepRunner.run(THREE, alone, 1, new TestEngine.Factory(), plan -> DATA, null, SharedStages.none());
        Path out = tmp.resolve("out");
        TestEngine.Factory engines = new TestEngine.Factory();
        engines.crashOnFirstUse.put("two-stage/replay.fraction=0", 12);
        Starts starts = new Starts();
        SweepResult r = SweepRunner.run(THREE, out, 1, engines, plan -> DATA, starts);
        assertThat(r.failed()).extracting(VariantResult::name).containsExactly("replay.fraction=0");
        // the first waiting run trains stage 0 itself, and the second then starts from it
        assertThat(starts.events).contains("started replay.fraction=0.05 at 0",
                "replay.fraction=0.25 from replay.fraction=0.05 at pretrain 40");
        for (String v : List.of("replay.fraction=0.05", "replay.fraction=0.25")) {
            assertThat(withoutTimings(out.resolve("runs").resolve(v))).as(v).isEqualTo(withoutTimings(alone.resolve("runs").resolve(v)));
        }
    }

    @Test
    void laterSweepsStartFromStageEndsOnDiskOrInTheSameRegistry() throws IOException {
        Path alone = tmp.resolve("alone");
        SweepRunner.run(THREE, alone, 1, new TestEngine.Factory(), plan -> DATA, null, SharedStages.none());

        // the same registry across two sweeps (as a reproduction passes it): the second trains no stage 0
        SharedStages registry = SharedStages.create();
        SweepSpec first = SweepRunnerTest.sweep("\"grid\": { \"stages[1].replay.fraction\": [0] }");
        SweepRunner.run(first, tmp.resolve("first"), 1, new TestEngine.Factory(), plan -> DATA, null, registry);
        SweepSpec second = SweepRunnerTest.sweep("\"grid\": { \"stages[1].replay.fraction\": [0.05, 0.25] }");
        SweepResult r = SweepRunner.run(second, tmp.resolve("second"), 2, new TestEngine.Factory(), plan -> DATA, null, registry);
        assertThat(r.sharedSteps()).isEqualTo(80);
        for (String v : List.of("replay.fraction=0.05", "replay.fraction=0.25")) {
            assertThat(withoutTimings(tmp.resolve("second/runs").resolve(v))).as(v).isEqualTo(withoutTimings(alone.resolve("runs").resolve(v)));
        }

        // a new registry finds a finished run's stage end in its own directory on a rerun of a grown sweep
        Path grown = tmp.resolve("grown");
        SweepRunner.run(first, grown, 1, new TestEngine.Factory(), plan -> DATA, null, SharedStages.none());
        Starts starts = new Starts();
        SweepResult g = SweepRunner.run(THREE, grown, 2, new TestEngine.Factory(), plan -> DATA, starts);
        assertThat(g.sharedSteps()).isEqualTo(80);
        assertThat(starts.events).contains("replay.fraction=0.05 from replay.fraction=0 at pretrain 40");
        for (String v : List.of("replay.fraction=0.05", "replay.fraction=0.25")) {
            assertThat(MetricsLog.read(grown.resolve("runs").resolve(v).resolve("metrics.jsonl"))).hasSize(101);
            assertThat(withoutTimings(grown.resolve("runs").resolve(v))).as(v).isEqualTo(withoutTimings(alone.resolve("runs").resolve(v)));
        }
    }

    @Test
    void recordsBeforeABoundaryAreTakenAsWrittenAndAGapIsNamed() throws IOException {
        Path m = tmp.resolve("metrics.jsonl");
        Files.writeString(m, """
            {"step":0,"stage":"a","tokens":0,"loss":1.5}
            {"step":1,"stage":"a","tokens":8,"loss":1.25}
            {"step":2,"stage":"b","tokens":16,"loss":1.0}
            {"step":3,"stage":"b","tok""");
        assertThat(SharedStages.recordsBefore(m, 2)).containsExactly("{\"step\":0,\"stage\":\"a\",\"tokens\":0,\"loss\":1.5}",
                "{\"step\":1,\"stage\":\"a\",\"tokens\":8,\"loss\":1.25}");
        Files.writeString(m, "{\"step\":0,\"stage\":\"a\",\"tokens\":0}\n{\"step\":2,\"stage\":\"a\",\"tokens\":0}\n");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SharedStages.recordsBefore(m, 3))
                .hasMessageContaining(m + ": step 1 expected, found 2");
    }
}
