package dev.cpt.sweep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.cpt.TestSpecs;
import dev.cpt.spec.Problems;
import dev.cpt.spec.ScheduleSpec;
import dev.cpt.spec.SpecException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SweepSpecTest {
    static final String EXTRA = """
        , "eval": { "every": 10, "batches": 2 }, "finalLoss": { "lastSteps": 20, "every": 5 }
        """;
    /** Two stages, en → de; the second has no replay. */
    static final String BASE = TestSpecs.twoStage(40, 60, "", EXTRA);
    /** The same with 25% replay in the second stage. */
    static final String BASE_REPLAY = TestSpecs.twoStage(40, 60, "\"replay\": { \"fraction\": 0.25, \"from\": { \"en\": 1 } }", EXTRA);

    @TempDir
    Path tmp;

    static SweepSpec read(String base, String body) {
        return SweepSpec.read("{ \"name\": \"s\", \"base\": " + base + (body.isEmpty() ? "" : ", " + body) + " }", "sweep.json", Path.of("."));
    }

    static List<Problems.Problem> problems(String base, String body) {
        SpecException e = catchThrowableOfType(SpecException.class, () -> read(base, body));
        assertThat(e).as("reading should fail").isNotNull();
        assertThat(e.source()).isEqualTo("sweep.json");
        return e.problems();
    }

    static List<Problems.Problem> problemsOf(String json) {
        SpecException e = catchThrowableOfType(SpecException.class, () -> SweepSpec.read(json, "sweep.json", Path.of(".")));
        assertThat(e).as("reading should fail").isNotNull();
        return e.problems();
    }

    static void assertProblem(List<Problems.Problem> problems, String path, String... words) {
        List<Problems.Problem> at = problems.stream().filter(p -> p.path().equals(path)).toList();
        assertThat(at).as("problems at %s among %s", path, problems).hasSize(1);
        assertThat(at.getFirst().message()).contains(words);
    }

    static com.fasterxml.jackson.databind.JsonNode num(double v) {
        return com.fasterxml.jackson.databind.node.DoubleNode.valueOf(v);
    }

    static List<String> names(SweepSpec s) {
        return s.variants().stream().map(SweepSpec.Variant::name).toList();
    }

    @Test
    void overridesReplaceAValueAWholeObjectOrAddAFieldWhoseObjectExists() {
        SweepSpec s = read(BASE, """
            "variants": {
              "baseline": {},
              "hot": { "stages[1].lr.max": 0.02, "eval.every": 5 },
              "constant": { "stages[1].lr": { "type": "constant", "value": 3e-4 } },
              "replay": { "stages[1].replay": { "fraction": 0.25, "from": { "en": 1 } } } }
            """);
        assertThat(names(s)).containsExactly("baseline", "hot", "constant", "replay");
        assertThat(s.variant("baseline").spec().stages().get(1).lr()).isInstanceOf(ScheduleSpec.Cosine.class);
        ScheduleSpec.Cosine hot = (ScheduleSpec.Cosine) s.variant("hot").spec().stages().get(1).lr();
        assertThat(hot.max()).isEqualTo(0.02);
        assertThat(hot.min()).isEqualTo(0.001); // the rest of the object is the base's
        assertThat(s.variant("hot").spec().eval().every()).isEqualTo(5);
        assertThat(s.variant("constant").spec().stages().get(1).lr()).isEqualTo(new ScheduleSpec.Constant(3e-4));
        assertThat(s.variant("constant").plan().lrAt(70)).isEqualTo(3e-4);
        assertThat(s.variant("replay").spec().stages().get(1).replay().fraction()).isEqualTo(0.25);
        assertThat(s.variant("baseline").spec().stages().get(1).replay()).isNull();
        // every run is named after the base and its variant, and planned
        assertThat(s.variant("hot").spec().name()).isEqualTo("two-stage/hot");
        assertThat(s.variant("hot").plan().totalSteps()).isEqualTo(100);
        assertThat(s.variant("hot").overrides()).containsOnlyKeys("stages[1].lr.max", "eval.every");
    }

    @Test
    void nullRemovesAField() {
        SweepSpec s = read(BASE_REPLAY, "\"variants\": { \"no-replay\": { \"stages[1].replay\": null } }");
        assertThat(s.variant("no-replay").spec().stages().get(1).replay()).isNull();
    }

    @Test
    void pathsThatLeadNowhereAreProblemsNamingTheVariantAndPath() {
        List<Problems.Problem> p = problems(BASE, """
            "variants": {
              "a": { "stages[1].replay.fraction": 0.1 },
              "b": { "stages[2].lr.max": 0.1 },
              "c": { "eval.every.often": 1, "stages.lr": 1 },
              "d": { "stages[x].lr": 1, "": 2, "eval..every": 3, "name": "mine" } }
            """);
        assertProblem(p, "variants.a[\"stages[1].replay.fraction\"]", "stages[1].replay does not exist",
                "set \"stages[1].replay\" as a whole");
        assertProblem(p, "variants.b[\"stages[2].lr.max\"]", "stages[2] is out of range: stages has 2 elements");
        assertProblem(p, "variants.c[\"eval.every.often\"]", "eval.every is a number, not an object");
        assertProblem(p, "variants.c[\"stages.lr\"]", "stages is a list, not an object");
        assertProblem(p, "variants.d[\"stages[x].lr\"]", "not a path", "list index");
        assertProblem(p, "variants.d[\"\"]", "empty path");
        assertProblem(p, "variants.d[\"eval..every\"]", "not a path");
        assertProblem(p, "variants.d[\"name\"]", "cannot be overridden");
        assertThat(p).hasSize(8);
    }

    @Test
    void theSweepItselfIsCheckedStrictly() {
        List<Problems.Problem> p = problems(BASE, """
            "variant": {}, "description": 7, "seeds": [1, 1.5, 1], "grid": { "stages[1].lr.max": 0.1, "eval.every": [] },
            "variants": { "bad name/x": {}, "ok": 3 }
            """);
        assertProblem(p, "variant", "unknown field", "allowed: name, description, base, variants, grid, seeds");
        assertProblem(p, "description", "expected text");
        assertProblem(p, "seeds[1]", "expected a whole number, got 1.5");
        assertProblem(p, "seeds[2]", "listed twice");
        assertProblem(p, "grid[\"stages[1].lr.max\"]", "expected a list of values", "[value]");
        assertProblem(p, "grid[\"eval.every\"]", "is empty");
        assertProblem(p, "variants.bad name/x", "cannot name a run directory");
        assertProblem(p, "variants.ok", "expected an object of path: value");

        assertProblem(problems("3", ""), "base", "expected a run spec file name or a run spec object");
        assertProblem(problemsOf("{ \"base\": " + BASE + " }"), "name", "missing");
        assertProblem(problemsOf("{ \"name\": \"s\", \"base\": {} , }"), "line 1, column 29", "not valid JSON");
    }

    @Test
    void gridNamesAreShortAndDeterministic() {
        SweepSpec s = read(BASE_REPLAY, "\"grid\": { \"stages[1].lr.max\": [0.0015, 3e-3], \"stages[1].replay.fraction\": [0, 0.25] }");
        assertThat(names(s)).containsExactly(
                "lr.max=0.0015,replay.fraction=0", "lr.max=0.0015,replay.fraction=0.25",
                "lr.max=0.003,replay.fraction=0", "lr.max=0.003,replay.fraction=0.25");
        assertThat(s.variant("lr.max=0.003,replay.fraction=0").spec().stages().get(1).replay().fraction()).isZero();
        assertThat(SweepSpec.labels(List.of(num(3e-4), num(1.5e-4), num(1e20), num(100.0)))).containsExactly("3e-4", "1.5e-4", "1e20", "100");
        assertThat(((ScheduleSpec.Cosine) s.variant("lr.max=0.003,replay.fraction=0").spec().stages().get(1).lr()).max())
                .isEqualTo(0.003);

        // keys that would read the same grow until they differ; objects go by their type, small numbers shortest
        SweepSpec t = read(BASE, """
            "grid": { "stages[0].lr.max": [1.5e-2], "stages[1].lr.max": [3e-3, 1e-2],
                      "stages[1].weightDecay": [{ "type": "constant", "value": 0.1 }, { "type": "constant", "value": 0 }] }
            """);
        assertThat(names(t).getFirst()).isEqualTo("stages.0.lr.max=0.015,stages.1.lr.max=0.003,stages.1.weightDecay=constant-1");
        assertThat(names(t)).hasSize(4).doesNotHaveDuplicates()
                .allMatch(n -> n.matches("[A-Za-z0-9._+=,-]+"), "file-safe");
        assertThat(names(t).get(3)).isEqualTo("stages.0.lr.max=0.015,stages.1.lr.max=0.01,stages.1.weightDecay=constant-2");
    }

    @Test
    void variantsTimesGridTimesSeeds() {
        SweepSpec s = read(BASE, """
            "variants": { "cold": { "stages[1].lr.max": 0.002 }, "warm": {} },
            "grid": { "eval.every": [5, 10] },
            "seeds": [1, 2]
            """);
        assertThat(names(s)).containsExactly(
                "cold,eval.every=5@seed=1", "cold,eval.every=5@seed=2", "cold,eval.every=10@seed=1", "cold,eval.every=10@seed=2",
                "warm,eval.every=5@seed=1", "warm,eval.every=5@seed=2", "warm,eval.every=10@seed=1", "warm,eval.every=10@seed=2");
        SweepSpec.Variant v = s.variant("cold,eval.every=10@seed=2");
        assertThat(v.spec().seed()).isEqualTo(2L);
        assertThat(v.spec().eval().every()).isEqualTo(10);
        assertThat(((ScheduleSpec.Cosine) v.spec().stages().get(1).lr()).max()).isEqualTo(0.002);
        assertThat(v.spec().name()).isEqualTo("two-stage/cold,eval.every=10@seed=2");
        assertThat(v.overrides()).containsOnlyKeys("stages[1].lr.max", "eval.every", "seed");

        SweepSpec seedsOnly = read(BASE, "\"seeds\": [7, 8]");
        assertThat(names(seedsOnly)).containsExactly("base@seed=7", "base@seed=8");
        assertThat(names(read(BASE, ""))).containsExactly("base");
        assertProblem(problems(BASE, "\"seeds\": [1], \"variants\": { \"a\": { \"seed\": 3 } }"), "variants.a[\"seed\"]", "seeds sets");
    }

    @Test
    void everyVariantIsValidatedAndPlannedAndAllProblemsComeAtOnce() {
        List<Problems.Problem> p = problems(BASE, """
            "variants": {
              "ok": {},
              "bad-type": { "stages[1].lr.max": "high" },
              "bad-range": { "stages[1].lr.min": 0.5 },
              "too-long": { "stages[1].lr.warmupSteps": 100 } }
            """);
        assertProblem(p, "#variant bad-type: stages[1].lr.max", "expected a number, got \"high\"");
        assertProblem(p, "#variant bad-range: stages[1].lr.min", "above max");
        // a problem only planning finds: the warmup is longer than the stage's 60 steps
        assertThat(p).anyMatch(x -> x.path().startsWith("#variant too-long: stages[1].lr"));
        assertThat(p).noneMatch(x -> x.path().contains("ok"));
    }

    @Test
    void problemsEveryVariantSharesAreReportedOnce() {
        String base = BASE.replace("\"every\": 10", "\"every\": 0");
        List<Problems.Problem> p = problems(base, "\"grid\": { \"stages[1].lr.max\": [0.01, 0.02, 0.03] }");
        assertProblem(p, "#every variant: eval.every", "must be positive");
        assertThat(p).hasSize(1);
    }

    @Test
    void aBaseFileIsFoundBesideTheSweepAndInlinedInTheSweepAsRun() throws IOException {
        Files.createDirectories(tmp.resolve("specs"));
        Files.createDirectories(tmp.resolve("sweeps"));
        Files.writeString(tmp.resolve("specs/base.json"), BASE);
        Path file = tmp.resolve("sweeps/lr.json");
        Files.writeString(file, "{ \"name\": \"lr\", \"base\": \"../specs/base.json\", \"grid\": { \"stages[1].lr.max\": [0.01, 0.02] } }");
        SweepSpec s = SweepSpec.read(file);
        assertThat(s.baseFile()).isEqualTo(tmp.resolve("sweeps/../specs/base.json"));
        assertThat(s.json().get("base").get("name").asText()).isEqualTo("two-stage");
        assertThat(s.json().get("grid").get("stages[1].lr.max").size()).isEqualTo(2);
        // the sweep as run reads back as the same sweep
        SweepSpec again = SweepSpec.read(s.json().toString(), "again.json", tmp);
        assertThat(names(again)).isEqualTo(names(s));
        assertThat(again.variants().get(1).spec()).isEqualTo(s.variants().get(1).spec());

        Files.writeString(file, "{ \"name\": \"lr\", \"base\": \"../specs/nope.json\" }");
        SpecException e = catchThrowableOfType(SpecException.class, () -> SweepSpec.read(file));
        assertProblem(e.problems(), "base", "no such file: ../specs/nope.json");
    }

    @Test
    void gridValuesOfTheWrongTypeAreTheVariantsProblems() {
        List<Problems.Problem> p = problems(BASE, "\"grid\": { \"stages[1].lr.max\": [0.01, \"x\"] }");
        assertProblem(p, "#variant lr.max=x: stages[1].lr.max", "expected a number");
        assertThat(p).hasSize(1);
    }
}
