package dev.cpt.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.cpt.plan.RunPlan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScheduleCommandTest {

    static final double MAX = 3e-3;
    static final double MIN = 3e-4;
    static final String COSINE = """
        { "type": "cosine", "max": 3e-3, "min": 3e-4, "warmupSteps": 10 }""";

    @TempDir
    Path dir;

    private String cosineSpec() throws IOException {
        return CliRun.spec(dir, "cosine.json", CliRun.oneStage(1000, COSINE));
    }

    private static List<String> lines(String out) {
        return out.lines().toList();
    }

    private static double lr(String row) {
        return Double.parseDouble(row.split(",")[2]);
    }

    @Test
    void printsHeaderAndOneRowPerStep() throws IOException {
        CliRun r = CliRun.run("schedule", cosineSpec());

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        List<String> lines = lines(r.out());
        assertThat(lines.getFirst()).isEqualTo("step,stage,lr,weight_decay");
        assertThat(lines).hasSize(1 + 1000);
        assertThat(lines.get(1)).startsWith("0,train,");
        assertThat(lines.getLast()).startsWith("999,train,");
        assertThat(r.out()).doesNotContain("\r");
    }

    @Test
    void cosineValuesMatchTheFormulaByHand() throws IOException {
        List<String> lines = lines(CliRun.run("schedule", cosineSpec()).out());
        // Row i+1 is step i. Warmup W = 10: η = max·t/W, then the cosine over T − W = 990 steps.
        assertThat(lr(lines.get(1 + 0))).isEqualTo(0.0);
        assertThat(lr(lines.get(1 + 5))).isCloseTo(MAX / 2, within(1e-15 * MAX));
        assertThat(lr(lines.get(1 + 10))).isEqualTo(MAX);
        // t = 505 is half-way through the decay: cos(π/2) = 0, so η = (max + min)/2.
        double mid = (MAX + MIN) / 2;
        assertThat(lr(lines.get(1 + 505))).isCloseTo(mid, within(1e-15 * mid));
        double t999 = MIN + (MAX - MIN) / 2 * (1 + Math.cos(Math.PI * 989 / 990));
        assertThat(lr(lines.get(1 + 999))).isCloseTo(t999, within(1e-15 * t999));
        // No weight-decay schedule in the spec: PAPER.md's constant 0.1.
        assertThat(lines.subList(1, lines.size())).allSatisfy(l -> assertThat(l).endsWith(",0.1"));
        // Decreasing after the warmup, never below min.
        for (int t = 11; t < 1000; t++) {
            assertThat(lr(lines.get(1 + t))).isLessThan(lr(lines.get(t))).isGreaterThan(MIN);
        }
    }

    @Test
    void valuesReadBackToTheSameDoubles() throws IOException {
        String spec = CliRun.spec(dir, "two.json", CliRun.twoStage(300, 200));
        RunPlan plan = RunPlan.load(Path.of(spec));
        List<String> lines = lines(CliRun.run("schedule", spec).out());
        assertThat(lines).hasSize(1 + 500);
        for (int step = 0; step < 500; step++) {
            String[] f = lines.get(1 + step).split(",");
            assertThat(Long.parseLong(f[0])).isEqualTo(step);
            assertThat(f[1]).isEqualTo(step < 300 ? "pretrain" : "continue");
            assertThat(Double.parseDouble(f[2])).isEqualTo(plan.lrAt(step));
            assertThat(Double.parseDouble(f[3])).isEqualTo(plan.weightDecayAt(step));
        }
        // Re-warming: the second stage starts over from 0 and peaks at max after its own warmup.
        assertThat(lr(lines.get(1 + 300))).isEqualTo(0.0);
        assertThat(lr(lines.get(1 + 310))).isEqualTo(MAX);
        assertThat(lines.get(1 + 299)).endsWith(",0.05");
        assertThat(lines.get(1 + 300)).endsWith(",0.1");
    }

    @Test
    void atPrintsOnlyTheGivenStepsInTheGivenOrder() throws IOException {
        CliRun r = CliRun.run("schedule", cosineSpec(), "--at", "999,10,505,0");

        assertThat(r.code()).as(r.err()).isZero();
        List<String> lines = lines(r.out());
        assertThat(lines).hasSize(5);
        assertThat(lines.getFirst()).isEqualTo("step,stage,lr,weight_decay");
        assertThat(lines.subList(1, 5)).extracting(l -> l.split(",")[0]).containsExactly("999", "10", "505", "0");
        assertThat(lr(lines.get(2))).isEqualTo(MAX);
        List<String> all = lines(CliRun.run("schedule", cosineSpec()).out());
        assertThat(lines.get(3)).isEqualTo(all.get(1 + 505));
    }

    @Test
    void atOutOfRangeIsAUsageErrorThatSaysTheRange() throws IOException {
        String spec = cosineSpec();
        for (String at : List.of("1000", "0,5,1000", "-1")) {
            CliRun r = CliRun.run("schedule", spec, "--at", at);
            assertThat(r.code()).as(at).isEqualTo(2);
            assertThat(r.out()).as(at).isEmpty();
            assertThat(r.err()).as(at).contains("out of range").contains("1000 steps").contains("0 to 999");
        }
        CliRun notANumber = CliRun.run("schedule", spec, "--at", "ten");
        assertThat(notANumber.code()).isEqualTo(2);
        assertThat(notANumber.err()).contains("ten");
    }

    @Test
    void pngIsWrittenBesideTheCsv() throws IOException {
        Path png = dir.resolve("plot.png");
        CliRun r = CliRun.run("schedule", CliRun.spec(dir, "two.json", CliRun.twoStage(300, 200)), "--png", png.toString());

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(lines(r.out())).hasSize(1 + 500);
        byte[] bytes = Files.readAllBytes(png);
        assertThat(bytes.length).isGreaterThan(1000);
        assertThat(Arrays.copyOf(bytes, 8)).containsExactly(0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n');
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("two.json", "plot.png");
        }
    }

    @Test
    void pngReplacesAnOldFile() throws IOException {
        Path png = dir.resolve("plot.png");
        Files.writeString(png, "old");
        CliRun r = CliRun.run("schedule", cosineSpec(), "--png", png.toString(), "--at", "0");

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(Files.readAllBytes(png)).startsWith(0x89, 'P', 'N', 'G');
    }

    @Test
    void pngIntoAMissingDirectoryFailsBeforeAnyCsvAndLeavesNothing() throws IOException {
        String spec = cosineSpec();
        Path png = dir.resolve("no-such-dir").resolve("plot.png");
        CliRun r = CliRun.run("schedule", spec, "--png", png.toString());

        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains("cpt schedule: cannot write").contains("does not exist").doesNotContain("\tat ");
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("cosine.json");
        }
    }

    @Test
    void badSpecExitsWithOneAndListsItsProblems() throws IOException {
        String spec = CliRun.spec(dir, "bad.json", CliRun.oneStage(100, """
            { "type": "cosine", "max": 3e-3, "min": 3e-2 }"""));
        CliRun r = CliRun.run("schedule", spec);

        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains("bad.json").contains("stages[0].lr.min").doesNotContain("Exception");
    }

    @Test
    void missingSpecArgumentIsAUsageError() {
        CliRun r = CliRun.run("schedule");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("SPEC.json");
    }

    @Test
    void stageNamesAreQuotedWhenTheyNeedIt() throws IOException {
        String json = CliRun.oneStage(3, COSINE.replace("10", "1")).replace("\"name\": \"train\"", "\"name\": \"a, \\\"b\\\"\"");
        CliRun r = CliRun.run("schedule", CliRun.spec(dir, "q.json", json));

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(lines(r.out()).get(1)).startsWith("0,\"a, \"\"b\"\"\",");
    }

    @Test
    void longRunsStreamEveryStepAndPlotAFewThousandPoints() throws IOException {
        String spec = CliRun.spec(dir, "long.json", """
            { "name": "long",
              "model": { "preset": "toy-xs" },
              "batch": { "sequences": 4, "seqLen": 16 },
              "datasets": { "a": { "train": "a.bin" }, "b": { "train": "b.bin" } },
              "lr": { "type": "infinite", "max": 3e-3, "const": 1.65e-3, "min": 3e-4,
                      "warmupSteps": 100, "cooldownSteps": 30000, "annealSteps": 5000 },
              "weightDecay": { "type": "piecewise", "pieces": [
                  { "untilStep": 40000, "value": 0.0 }, { "untilStep": 80001, "value": 0.5 }, { "until": 1.0, "value": 0.1 } ] },
              "stages": [ { "name": "a", "steps": 60000, "mix": { "a": 1.0 } },
                          { "name": "b", "steps": 60000, "mix": { "b": 1.0 }, "resetOptimizer": true } ] }
            """);
        Path png = dir.resolve("long.png");
        CliRun r = CliRun.run("schedule", spec, "--png", png.toString());

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().lines().count()).isEqualTo(1 + 120_000);
        assertThat(Files.size(png)).isPositive();

        RunPlan plan = RunPlan.load(Path.of(spec));
        long[] steps = ScheduleChart.plotSteps(plan, ScheduleChart.GRID_POINTS);
        assertThat(steps.length).isBetween(ScheduleChart.GRID_POINTS, 3 * ScheduleChart.GRID_POINTS);
        for (int i = 1; i < steps.length; i++) assertThat(steps[i]).isGreaterThan(steps[i - 1]);
        // First and last steps of each stage, and both sides of every phase change.
        assertThat(steps).contains(0, 59_999, 60_000, 119_999, 100, 101, 30_100, 30_101, 114_999, 115_000,
                39_999, 40_000, 80_000, 80_001);
    }

    @Test
    void shortRunsPlotEveryStep() throws IOException {
        RunPlan plan = RunPlan.load(Path.of(cosineSpec()));
        long[] steps = ScheduleChart.plotSteps(plan, ScheduleChart.GRID_POINTS);
        assertThat(steps).hasSize(1000);
        assertThat(steps[0]).isZero();
        assertThat(steps[999]).isEqualTo(999);
    }
}
