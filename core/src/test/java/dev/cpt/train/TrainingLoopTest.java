package dev.cpt.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cpt.TestSpecs;
import dev.cpt.data.DataSources;
import dev.cpt.metrics.RunSummary;
import dev.cpt.plan.RunPlan;
import dev.cpt.record.CheckpointManifest;
import dev.cpt.record.Json;
import dev.cpt.record.MetricsLog;
import dev.cpt.record.RunDirectory;
import dev.cpt.record.StepRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import dev.cpt.data.TokenSource;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingLoopTest {
    static final String EXTRA = """
        , "eval": { "every": 10, "batches": 2 }, "finalLoss": { "lastSteps": 20, "every": 5 },
          "checkpoint": { "every": 15, "keep": 1 }
        """;
    static final String SPEC = TestSpecs.twoStage(40, 60, "\"replay\": { \"fraction\": 0.25, \"from\": { \"en\": 1 } }", EXTRA);
    final RunPlan plan = TestSpecs.plan(SPEC);
    final DataSources data = TestSpecs.countingData(20_000, "en", "de");

    @TempDir
    Path tmp;

    @Test
    void aBatchThatCannotBeDrawnStillLeavesTheStageEndCheckpointAndFailsAtItsStep() throws IOException {
        // The next stage's first batch is drawn on the prefetch thread while the last step of the
        // stage before trains; a shard that fails to read there must not cost that stage's checkpoint.
        TokenSource broken = new TokenSource() {
            public String name() {
                return "de/train.bin";
            }

            public long length() {
                return 20_000;
            }

            public void read(long offset, int[] dst, int dstOffset, int count) {
                throw new java.io.UncheckedIOException(new IOException("de/train.bin: read error at token " + offset));
            }
        };
        DataSources enGood = TestSpecs.countingData(20_000, "en", "de");
        DataSources withBroken = new DataSources(Map.of("en", enGood.train("en").getFirst().source(), "de", broken),
                Map.of("en", enGood.val("en").getFirst().source(), "de", enGood.val("de").getFirst().source()));
        FunctionEngine engine = new FunctionEngine();
        Path run = tmp.resolve("run");
        assertThatThrownBy(() -> new TrainingLoop(plan, engine, withBroken, run, null).run(false))
                .isInstanceOf(java.io.UncheckedIOException.class)
                .hasMessageContaining("de/train.bin: read error");
        assertThat(engine.calls).hasSize(40);
        var checkpoints = RunDirectory.resume(run, plan.spec()).listCheckpoints();
        var end = checkpoints.stream().filter(c -> c.state().step() == 40).findFirst().orElseThrow();
        assertThat(end.state().stageEnd()).isEqualTo("pretrain");

        // and the run resumes from it once the shard is readable, as if nothing had happened
        FunctionEngine resumed = new FunctionEngine();
        new TrainingLoop(plan, resumed, data, run, null).run(true);
        FunctionEngine whole = new FunctionEngine();
        new TrainingLoop(plan, whole, data, tmp.resolve("whole"), null).run(false);
        assertThat(resumed.theta).isEqualTo(whole.theta);
        assertThat(withoutTimings(run.resolve("metrics.jsonl"))).isEqualTo(withoutTimings(tmp.resolve("whole/metrics.jsonl")));
    }

    @Test
    void eachStepUsesTheScheduledRatesAndTheOptimizerResetsAtTheStageBoundary() throws IOException {
        FunctionEngine engine = new FunctionEngine();
        new TrainingLoop(plan, engine, data, tmp.resolve("run"), null).run(false);
        assertThat(engine.calls).hasSize(100);
        for (int step = 0; step < 100; step++) {
            assertThat(engine.calls.get(step)[0]).isEqualTo(plan.lrAt(step));
            assertThat(engine.calls.get(step)[1]).isEqualTo(0.1); // the default weight decay
        }
        assertThat(engine.calls.get(40)[0]).isEqualTo(0.0); // re-warming starts from 0 at the boundary
        assertThat(engine.resetsAtCall).containsExactly(40);
    }

    @Test
    void metricsHaveOneLinePerStepAndValidationWhereDue() throws IOException {
        new TrainingLoop(plan, new FunctionEngine(), data, tmp.resolve("run"), null).run(false);
        List<StepRecord> lines = MetricsLog.read(tmp.resolve("run/metrics.jsonl"));
        assertThat(lines).hasSize(101);
        assertThat(lines.getFirst().step()).isZero();
        assertThat(lines.getLast().step()).isEqualTo(100);
        assertThat(lines.getLast().loss()).isNull();
        assertThat(lines.get(40).stage()).isEqualTo("continue");
        assertThat(lines.get(39).stage()).isEqualTo("pretrain");
        assertThat(lines.get(7).tokens()).isEqualTo(7 * 8 * 16);
        List<Long> evalSteps = lines.stream().filter(l -> l.val() != null).map(StepRecord::step).toList();
        // every 10, plus the final-loss windows: 25..40 by 5 (pretrain), 85..100 by 5 (continue).
        assertThat(evalSteps).containsExactly(0L, 10L, 20L, 25L, 30L, 35L, 40L, 50L, 60L, 70L, 80L, 85L, 90L, 95L, 100L);
        assertThat(lines.get(30).val()).containsOnlyKeys("en", "de");
        assertThat(lines.get(12).tokensPerSecond()).isPositive();
    }

    @Test
    void summaryUsesTheWindowMeansOfTheRecordedLosses() throws IOException {
        RunSummary s = new TrainingLoop(plan, new FunctionEngine(), data, tmp.resolve("run"), null).run(false);
        List<StepRecord> lines = MetricsLog.read(tmp.resolve("run/metrics.jsonl"));
        double enFinal = (lines.get(85).val().get("en") + lines.get(90).val().get("en") + lines.get(95).val().get("en")
                + lines.get(100).val().get("en")) / 4;
        double enEnd = (lines.get(25).val().get("en") + lines.get(30).val().get("en") + lines.get(35).val().get("en")
                + lines.get(40).val().get("en")) / 4;
        var close = org.assertj.core.api.Assertions.within(1e-15);
        assertThat(s.datasets().get("en").finalLoss()).isCloseTo(enFinal, close);
        assertThat(s.datasets().get("en").stageEndLoss().get("pretrain")).isCloseTo(enEnd, close);
        assertThat(s.datasets().get("en").forgetting()).isCloseTo(enFinal - enEnd, close);
        double deFinal = s.datasets().get("de").finalLoss();
        assertThat(s.datasets().get("de").adaptation())
                .isEqualTo(s.datasets().get("de").stageEndLoss().get("pretrain") - deFinal);
        assertThat(s.averageFinalLoss()).isCloseTo((enFinal + deFinal) / 2, close);
        RunSummary onDisk = Json.MAPPER.readValue(tmp.resolve("run/summary.json").toFile(), RunSummary.class);
        assertThat(onDisk.datasets().get("en").finalLoss()).isEqualTo(s.datasets().get("en").finalLoss());
    }

    @Test
    void aResumedRunEqualsAnUninterruptedOne() throws IOException {
        FunctionEngine straight = new FunctionEngine();
        new TrainingLoop(plan, straight, data, tmp.resolve("a"), null).run(false);

        for (int crashAt : new int[] {17, 40, 41, 77}) {
            Path dir = tmp.resolve("b" + crashAt);
            FunctionEngine crashing = new FunctionEngine();
            crashing.crashAtCall = crashAt;
            assertThatThrownBy(() -> new TrainingLoop(plan, crashing, data, dir, null).run(false))
                    .hasMessageContaining("simulated crash");
            FunctionEngine fresh = new FunctionEngine();
            fresh.theta = 123; // whatever it starts with, the checkpoint replaces it
            new TrainingLoop(plan, fresh, data, dir, null).run(true);

            assertThat(fresh.theta).as("crash at %d", crashAt).isEqualTo(straight.theta);
            assertThat(withoutTimings(dir.resolve("metrics.jsonl"))).isEqualTo(withoutTimings(tmp.resolve("a/metrics.jsonl")));
            assertThat(Json.MAPPER.readTree(dir.resolve("summary.json").toFile()).get("datasets"))
                    .isEqualTo(Json.MAPPER.readTree(tmp.resolve("a/summary.json").toFile()).get("datasets"));
        }
    }

    @Test
    void aDamagedCheckpointIsNamedAndTheRunResumesFromTheNewestGoodOne() throws IOException {
        FunctionEngine straight = new FunctionEngine();
        new TrainingLoop(plan, straight, data, tmp.resolve("a"), null).run(false);
        for (String damage : new String[] {"flip", "truncate", "delete", "loop"}) {
            // Stopped after step 90's checkpoint (kept: 40, the stage end, and 90), then a file of 90 damaged on disk.
            Path dir = tmp.resolve("b-" + damage);
            FunctionEngine crashing = new FunctionEngine();
            crashing.crashAtCall = 95;
            assertThatThrownBy(() -> new TrainingLoop(plan, crashing, data, dir, null).run(false)).hasMessageContaining("simulated crash");
            Path damaged = dir.resolve("checkpoints/step-00000090");
            Path state = damaged.resolve("engine/state.txt");
            String expected = switch (damage) {
                case "flip" -> {
                    byte[] b = Files.readAllBytes(state);
                    b[3] ^= 1;
                    Files.write(state, b);
                    yield "engine/state.txt fails its checksum (SHA-256 ";
                }
                case "truncate" -> {
                    long size = Files.size(state);
                    Files.write(state, java.util.Arrays.copyOf(Files.readAllBytes(state), (int) size - 5));
                    yield "engine/state.txt has " + (size - 5) + " bytes, the manifest says " + size;
                }
                case "delete" -> {
                    Files.delete(state);
                    yield "engine/state.txt is missing";
                }
                default -> {
                    Files.writeString(damaged.resolve("loop.json"), "{ \"step\": 90, ");
                    yield "loop.json has ";
                }
            };
            List<String> warnings = new java.util.ArrayList<>();
            TrainingLoop.Listener listener = new TrainingLoop.Listener() {
                @Override
                public void onWarning(String message) {
                    warnings.add(message);
                }
            };
            FunctionEngine resumed = new FunctionEngine();
            new TrainingLoop(plan, resumed, data, dir, listener).run(true);
            assertThat(warnings).as(damage).singleElement().asString()
                    .contains("checkpoint " + damaged + " is damaged (" + expected)
                    .endsWith("resuming from step-00000040 (step 40) instead");
            assertThat(resumed.calls).as(damage + ": steps trained after the resume").hasSize(60);
            assertThat(resumed.theta).as(damage).isEqualTo(straight.theta);
            assertThat(withoutTimings(dir.resolve("metrics.jsonl"))).isEqualTo(withoutTimings(tmp.resolve("a/metrics.jsonl")));
            // The damaged checkpoint was written again when the run came back to its step.
            CheckpointManifest.verify(damaged);
        }
    }

    @Test
    void whenEveryCheckpointIsDamagedTheResumeStopsNamingThemAndWritesNothing() throws IOException {
        Path dir = tmp.resolve("run");
        FunctionEngine crashing = new FunctionEngine();
        crashing.crashAtCall = 20;
        assertThatThrownBy(() -> new TrainingLoop(plan, crashing, data, dir, null).run(false)).hasMessageContaining("simulated crash");
        Path only = dir.resolve("checkpoints/step-00000015");
        Files.writeString(only.resolve("manifest.json"), "not json");
        byte[] metrics = Files.readAllBytes(dir.resolve("metrics.jsonl"));
        assertThatThrownBy(() -> new TrainingLoop(plan, new FunctionEngine(), data, dir, null).run(true))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("checkpoint " + only + " is damaged (" + only.resolve("manifest.json") + " cannot be read")
                .hasMessageContaining("no good checkpoint is left to resume from");
        assertThat(Files.readAllBytes(dir.resolve("metrics.jsonl"))).isEqualTo(metrics);
    }

    private static List<StepRecord> withoutTimings(Path metrics) throws IOException {
        return MetricsLog.read(metrics).stream().map(r -> new StepRecord(r.step(), r.stage(), r.tokens(), r.lr(),
                r.weightDecay(), r.loss(), r.gradNorm(), r.val(), null)).toList();
    }

    @Test
    void checkpointsAtStageEndsAreKeptAndPeriodicOnesPruned() throws IOException {
        new TrainingLoop(plan, new FunctionEngine(), data, tmp.resolve("run"), null).run(false);
        try (Stream<Path> s = Files.list(tmp.resolve("run/checkpoints"))) {
            // periodic every 15: 15, 30, 45, 60, 75, 90 → only the newest (90) kept; stage ends 40 and 100.
            assertThat(s.map(p -> p.getFileName().toString()).sorted())
                    .containsExactly("step-00000040", "step-00000090", "step-00000100");
        }
        var ckpts = RunDirectory.resume(tmp.resolve("run"), plan.spec()).listCheckpoints();
        assertThat(ckpts.get(0).state().stageEnd()).isEqualTo("pretrain");
        assertThat(ckpts.get(1).state().stageEnd()).isNull();
    }

    @Test
    void aNonFiniteLossStopsTheRunNamingTheStepAndKeepsTheLastGoodCheckpoint() throws IOException {
        FunctionEngine engine = new FunctionEngine();
        engine.nanFromCall = 42;
        Path dir = tmp.resolve("run");
        assertThatThrownBy(() -> new TrainingLoop(plan, engine, data, dir, null).run(false))
                .isInstanceOf(TrainingDivergedException.class)
                .hasMessageContaining("at step 42: training loss NaN")
                .hasMessageContaining("(stage \"continue\", lr ")
                .hasMessageContaining("step-00000040");
        assertThat(dir.resolve("checkpoints/step-00000040/loop.json")).exists();
        assertThat(dir.resolve("summary.json")).doesNotExist();
        assertThat(MetricsLog.read(dir.resolve("metrics.jsonl"))).hasSize(42);
    }

    @Test
    void aNonFiniteValidationLossStopsTheRunToo() {
        FunctionEngine engine = new FunctionEngine();
        engine.nanEvalFromCall = 20;
        assertThatThrownBy(() -> new TrainingLoop(plan, engine, data, tmp.resolve("run"), null).run(false))
                .isInstanceOf(TrainingDivergedException.class)
                .hasMessageContaining("at step 20: validation loss on \"en\" is NaN")
                .hasMessageContaining("the last good checkpoint is " + tmp.resolve("run/checkpoints/step-00000015"));
    }

    @Test
    void refusesToOverwriteARunOrToResumeADifferentSpec() throws IOException {
        Path dir = tmp.resolve("run");
        new TrainingLoop(plan, new FunctionEngine(), data, dir, null).run(false);
        assertThatThrownBy(() -> new TrainingLoop(plan, new FunctionEngine(), data, dir, null).run(false))
                .hasMessageContaining("already holds a run");
        RunPlan changed = TestSpecs.plan(SPEC.replace("\"fraction\": 0.25", "\"fraction\": 0.5"));
        assertThatThrownBy(() -> new TrainingLoop(changed, new FunctionEngine(), data, dir, null).run(true))
                .hasMessageContaining("different spec")
                .hasMessageContaining("stages[1].replay.fraction was 0.25, is 0.5");
    }
    @Test
    void evalTasksOnAnEngineThatCannotScoreFailBeforeTheRunStarts() throws IOException {
        Path items = Files.writeString(tmp.resolve("piqa.jsonl"), "{\"goal\": \"Open a jar\", \"sol1\": \"Twist the lid.\","
                + " \"sol2\": \"Eat the lid.\", \"label\": 0}\n");
        String extra = EXTRA.replace("\"batches\": 2 }", "\"batches\": 2, \"tasks\": { \"piqa\": \"" + items + "\" } }");
        RunPlan withTasks = TestSpecs.plan(TestSpecs.twoStage(40, 60, "", extra));
        Path run = tmp.resolve("refused");

        // In-memory data records no tokenizer to turn the items into tokens.
        assertThatThrownBy(() -> new TrainingLoop(withTasks, new FunctionEngine(), data, run, null).run(false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("eval.tasks: the run's data records no tokenizer");
        // Given one, the engine is refused before anything is written: it cannot score.
        BenchmarkTasks tasks = BenchmarkTasks.read(withTasks.spec(), dev.cpt.data.tokenize.ByteTokenizer.INSTANCE);
        assertThatThrownBy(() -> new TrainingLoop(withTasks, new FunctionEngine(), data, run, null, tasks).run(false))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("eval.tasks (piqa) needs an engine that scores token sequences");
        assertThat(run).doesNotExist();
    }
}
