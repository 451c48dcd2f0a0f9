package dev.cpt.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SpecReaderTest {

    /** DESIGN.md's sketch, with optional sections left out so that their defaults apply. */
    private static final String VALID = """
            { "name": "pile-to-german-rewarm-replay25",
              "model": { "preset": "toy-s" },
              "batch": { "sequences": 16, "seqLen": 128 },
              "datasets": { "en": { "train": "data/en/train.bin", "val": "data/en/val.bin" },
                            "de": { "train": "data/de/train.bin", "val": "data/de/val.bin" } },
              "stages": [
                { "name": "pretrain", "tokens": 4e6, "mix": { "en": 1.0 },
                  "lr": { "type": "cosine", "max": 3e-3, "min": 3e-4, "warmup": 0.01 },
                  "weightDecay": { "type": "constant", "value": 0.1 } },
                { "name": "continue", "steps": 1e2, "mix": { "de": 1.0 },
                  "replay": { "fraction": 0.25, "from": { "en": 1.0 } }, "resetOptimizer": true,
                  "lr": { "type": "infinite", "max": 3e-4, "const": 1.65e-4, "min": 3e-5,
                          "warmup": 0.01, "cooldown": 0.6 } } ] }
            """;

    private static List<Problems.Problem> problems(String json) {
        SpecException e = catchThrowableOfType(SpecException.class, () -> SpecReader.read(json, "spec.json"));
        assertThat(e).as("reading should fail").isNotNull();
        assertThat(e.source()).isEqualTo("spec.json");
        return e.problems();
    }

    /** Exactly one problem at {@code path}, whose message contains every key word. */
    private static void assertProblem(List<Problems.Problem> problems, String path, String... keyWords) {
        List<Problems.Problem> at = problems.stream().filter(p -> p.path().equals(path)).toList();
        assertThat(at).as("problems at %s among %s", path, problems).hasSize(1);
        assertThat(at.get(0).message()).as("message at %s", path).contains(keyWords);
    }

    @Test
    void aRunsStoredSpecIsReadBackWithoutTheFilesItNamesWhichANewSpecMustHave(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        // As a run stored it: its init's shape written out, its paths relative to where it trained.
        String stored = VALID.replace("\"model\": { \"preset\": \"toy-s\" }",
                        "\"model\": { \"init\": \"hf:models/pythia-tiny\", \"arch\": \"neox\", \"layers\": 2, \"dModel\": 32,"
                                + " \"heads\": 4, \"contextLength\": 128, \"vocabSize\": 80 }")
                .replace("\"stages\": [", "\"eval\": { \"tasks\": { \"hellaswag\": \"eval/hellaswag.jsonl\" } }, \"stages\": [");
        List<Problems.Problem> fresh = problems(stored);
        assertThat(fresh).extracting(Problems.Problem::path).containsExactlyInAnyOrder("model.init", "eval.tasks.hellaswag");
        java.nio.file.Path file = java.nio.file.Files.writeString(tmp.resolve("spec.json"), stored);
        RunSpec spec = SpecReader.readStored(file);
        assertThat(spec.model().shape()).isEqualTo(new ModelSpec.Shape("neox", 2, 32, 4, 128, 80));
        assertThat(spec.eval().tasks()).containsEntry("hellaswag", "eval/hellaswag.jsonl");
        // Everything that needs no file is still checked.
        java.nio.file.Files.writeString(file, stored.replace("\"fraction\": 0.25", "\"fraction\": 1.5"));
        assertThatThrownBy(() -> SpecReader.readStored(file)).isInstanceOf(SpecException.class)
                .hasMessageContaining("stages[1].replay.fraction");
    }

    @Test
    void readsAValidSpecWithItsDefaults() {
        RunSpec spec = SpecReader.read(VALID, "valid.json");

        assertThat(spec.name()).isEqualTo("pile-to-german-rewarm-replay25");
        assertThat(spec.seed()).isEqualTo(0L);
        assertThat(spec.model().preset()).isEqualTo("toy-s");
        assertThat(spec.model().shape()).isEqualTo(new ModelSpec.Shape("gpt2", 4, 128, 4, 128, 256));
        assertThat(spec.batch()).isEqualTo(new BatchSpec(16, 128, null));
        assertThat(spec.batch().tokensPerStep()).isEqualTo(2048L);
        assertThat(spec.datasets()).containsOnlyKeys("en", "de");
        assertThat(spec.datasets().get("de")).isEqualTo(new DatasetSpec("data/de/train.bin", "data/de/val.bin"));

        // PAPER.md's AdamW settings, the evaluation cadence and the final-loss window
        assertThat(spec.optimizer().beta1()).isEqualTo(0.9);
        assertThat(spec.optimizer().beta2()).isEqualTo(0.95);
        assertThat(spec.optimizer().eps()).isEqualTo(1e-8);
        assertThat(spec.optimizer().gradClip()).isEqualTo(1.0);
        assertThat(spec.eval().every()).isEqualTo(50L);
        assertThat(spec.eval().batches()).isEqualTo(8);
        assertThat(spec.finalLoss().lastSteps()).isEqualTo(100L);
        assertThat(spec.finalLoss().every()).isEqualTo(10L);
        assertThat(spec.finalLoss().samples()).isEqualTo(10L);
        assertThat(spec.checkpoint()).isEqualTo(new CheckpointSpec(0L, 1));
        assertThat(spec.lr()).isNull();
        assertThat(spec.weightDecay()).isNull();

        assertThat(spec.stages()).hasSize(2);
        StageSpec pretrain = spec.stages().get(0);
        assertThat(pretrain.name()).isEqualTo("pretrain");
        assertThat(pretrain.tokens()).isEqualTo(4_000_000L);      // 4e6 is a whole number
        assertThat(pretrain.steps()).isNull();
        assertThat(pretrain.stepCount(2048)).isEqualTo(1953L);   // 4,000,000 / 2,048 rounded down
        assertThat(pretrain.mix()).isEqualTo(Map.of("en", 1.0));
        assertThat(pretrain.replay()).isNull();
        assertThat(pretrain.resetOptimizer()).isFalse();
        assertThat(pretrain.lr()).isEqualTo(new ScheduleSpec.Cosine(3e-3, 3e-4, 0.01, null, 0.0));
        assertThat(pretrain.weightDecay()).isEqualTo(new ScheduleSpec.Constant(0.1));

        StageSpec next = spec.stages().get(1);
        assertThat(next.steps()).isEqualTo(100L);                 // 1e2
        assertThat(next.tokens()).isNull();
        assertThat(next.resetOptimizer()).isTrue();
        assertThat(next.replay().fraction()).isEqualTo(0.25);
        assertThat(next.replay().from()).isEqualTo(Map.of("en", 1.0));
        assertThat(next.replay().pool()).isEqualTo(ReplaySpec.Pool.CONSUMED);
        assertThat(next.lr()).isEqualTo(new ScheduleSpec.Infinite(3e-4, 1.65e-4, 3e-5, 0.01, null, 0.6, null,
                null, null, ScheduleSpec.CooldownShape.COSINE, 1.0, 0.0));
    }

    @Test
    void explicitValuesWinOverDefaults() {
        String json = VALID.replace("\"name\": \"pile-to-german-rewarm-replay25\",", """
                "name": "explicit", "seed": 1234,
                "optimizer": { "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "gradClip": 0 },
                "eval": { "every": 25, "batches": 2 }, "finalLoss": { "lastSteps": 40, "every": 20 },
                "checkpoint": { "every": 500, "keep": 3 },
                "lr": { "type": "wsd", "max": 3e-4, "min": 3e-5, "decay": 0.2, "decayShape": "sqrt" },
                "weightDecay": { "type": "piecewise", "pieces": [ { "until": 0.5, "value": 0 }, { "untilStep": 5000, "value": 0.1 } ] },
                """).replace("\"from\": { \"en\": 1.0 } }", "\"from\": { \"en\": 1.0 }, \"pool\": \"full\" }");
        RunSpec spec = SpecReader.read(json, "explicit.json");
        assertThat(spec.seed()).isEqualTo(1234L);
        assertThat(spec.optimizer()).isEqualTo(new OptimizerSpec(0.8, 0.99, 1e-6, 0.0));
        assertThat(spec.eval()).isEqualTo(new EvalSpec(25L, 2));
        assertThat(spec.finalLoss()).isEqualTo(new FinalLossSpec(40L, 20L));
        assertThat(spec.checkpoint()).isEqualTo(new CheckpointSpec(500L, 3));
        assertThat(spec.lr()).isEqualTo(new ScheduleSpec.Wsd(3e-4, 3e-5, null, null, 0.2, null, ScheduleSpec.DecayShape.SQRT, 0.0));
        assertThat(spec.weightDecay()).isEqualTo(new ScheduleSpec.Piecewise(List.of(
                new ScheduleSpec.Piece(0.5, null, 0.0), new ScheduleSpec.Piece(null, 5000L, 0.1))));
        assertThat(spec.stages().get(1).replay().pool()).isEqualTo(ReplaySpec.Pool.FULL);
    }

    /** One spec with many mistakes: every one is reported, each at its JSON path, in one exception. */
    private static final String BROKEN = """
            { "name": "broken",
              "colour": "blue",
              "seed": "abc",
              "model": { "preset": "toy-s", "dropout": { "p": 0.1 } },
              "optimizer": { "beta1": [0.9], "beta2": "0.95", "eps": "tiny" },
              "batch": { "sequences": 16, "seqLen": 256 },
              "eval": 50,
              "checkpoint": [1],
              "datasets": { "en": { "train": "data/en/train.bin", "val": "data/en/val.bin" },
                            "de": { "train": "data/de/train.bin", "val": "data/de/val.bin" },
                            "code": { "train": "data/code/train.bin" } },
              "weightDecay": { "value": 0.1 },
              "stages": [
                { "name": "pretrain", "steps": 12.5, "mix": { "en": 1.0, "de": -0.5 },
                  "lr": { "type": "infinite", "max": 3e-4, "const": 1.65e-4, "min": 3e-5, "warmup": 0.01,
                          "warmupSteps": 10, "cooldown": 0.6, "cooldownShape": "linear", "maxx": 1 } },
                { "name": "continue", "steps": 100, "tokens": 4e6, "mix": { "de": 1.0, "fr": 1.0 },
                  "replay": { "fraction": 1.5, "from": { "en": 1.0, "xx": 1.0, "code": 1.0 } },
                  "lr": { "type": "cosin", "max": 3e-4 } },
                { "name": "pretrain", "mix": { "en": 1.0 } } ] }
            """;

    @Test
    void reportsEveryProblemAtOnce() {
        List<Problems.Problem> problems = problems(BROKEN);

        // unknown fields, at the root and nested (also with an object for a value), with what is allowed
        assertProblem(problems, "colour", "unknown field", "allowed: name, seed, model");
        assertProblem(problems, "model.dropout", "unknown field", "allowed: preset, arch, layers");
        assertProblem(problems, "stages[0].lr.maxx", "unknown field", "allowed: type, max, const, min");
        // wrong types
        assertProblem(problems, "seed", "expected a whole number", "\"abc\"");
        assertProblem(problems, "optimizer.beta1", "expected a number", "a list");
        assertProblem(problems, "optimizer.beta2", "expected a number", "\"0.95\"");
        assertProblem(problems, "optimizer.eps", "expected a number", "\"tiny\"");
        assertProblem(problems, "eval", "expected an object", "50");
        assertProblem(problems, "checkpoint", "expected an object", "a list");
        assertProblem(problems, "stages[0].steps", "expected a whole number", "12.5");
        // schedule types and enum values
        assertProblem(problems, "weightDecay.type", "missing", "constant, cosine, linear, infinite, wsd, piecewise");
        assertProblem(problems, "stages[1].lr.type", "unknown type", "\"cosin\"", "constant, cosine");
        assertProblem(problems, "stages[0].lr.cooldownShape", "expected one of", "\"cosine\", \"invsqrt\"", "\"linear\"");
        // semantic checks on what could be read
        assertProblem(problems, "stages[0].lr.warmup", "warmup", "warmupSteps", "not both");
        assertProblem(problems, "stages[0].mix.de", "-0.5", "non-negative");
        assertProblem(problems, "stages[1].steps", "steps or tokens", "not both");
        assertProblem(problems, "stages[1].mix.fr", "unknown dataset", "\"fr\"", "en, de, code");
        assertProblem(problems, "stages[1].replay.fraction", "1.5 is not within [0, 1]");
        assertThat(problems).extracting(Object::toString).contains("stages[1].replay.fraction: 1.5 is not within [0, 1]");
        assertProblem(problems, "stages[1].replay.from.xx", "unknown dataset", "\"xx\"");
        assertProblem(problems, "stages[1].replay.from.code", "no earlier stage trained on", "\"code\"", "full");
        assertProblem(problems, "stages[2].name", "\"pretrain\"", "earlier stage");
        assertProblem(problems, "stages[2].steps", "missing", "steps or tokens");
        assertProblem(problems, "stages[2].lr", "missing", "no lr");
        assertProblem(problems, "batch.seqLen", "256", "context of 128");

        // and nothing else: no follow-up problem for a value already reported (e.g. steps 12.5 is not "missing")
        assertThat(problems).extracting(Problems.Problem::path).containsExactlyInAnyOrder(
                "colour", "model.dropout", "stages[0].lr.maxx",
                "seed", "optimizer.beta1", "optimizer.beta2", "optimizer.eps", "eval", "checkpoint", "stages[0].steps",
                "weightDecay.type", "stages[1].lr.type", "stages[0].lr.cooldownShape",
                "stages[0].lr.warmup", "stages[0].mix.de", "stages[1].steps", "stages[1].mix.fr",
                "stages[1].replay.fraction", "stages[1].replay.from.xx", "stages[1].replay.from.code",
                "stages[2].name", "stages[2].steps", "stages[2].lr", "batch.seqLen");
    }

    @Test
    void problemToStringIsPathColonMessage() {
        assertThat(new Problems.Problem("stages[1].replay.fraction", "1.5 is not within [0, 1]"))
                .hasToString("stages[1].replay.fraction: 1.5 is not within [0, 1]");
        assertThat(new Problems.Problem("", "the spec is empty (null)")).hasToString("the spec is empty (null)");
        SpecException e = new SpecException("a.json", List.of(new Problems.Problem("seed", "x"), new Problems.Problem("name", "y")));
        assertThat(e).hasMessage("a.json: 2 problems\n  seed: x\n  name: y");
    }

    @Test
    void microBatchMustDivideTheBatch() {
        assertThat(problems(VALID.replace("\"seqLen\": 128", "\"seqLen\": 128, \"microBatch\": 5")))
                .extracting(Object::toString)
                .containsExactly("batch.microBatch: microBatch 5 does not divide sequences 16");
        assertThat(problems(VALID.replace("\"seqLen\": 128", "\"seqLen\": 128, \"microBatch\": 0")))
                .extracting(Object::toString)
                .containsExactly("batch.microBatch: 0 must be positive");
        RunSpec spec = SpecReader.read(VALID.replace("\"seqLen\": 128", "\"seqLen\": 128, \"microBatch\": 4"), "s");
        assertThat(spec.batch().accumulationSteps()).isEqualTo(4);
        assertThat(spec.batch().tokensPerStep()).isEqualTo(2048L);
        assertThat(SpecReader.read(VALID, "s").batch().accumulationSteps()).isEqualTo(1);
    }

    @Test
    void seqLenLongerThanThePresetsContext() {
        List<Problems.Problem> problems = problems(VALID.replace("\"seqLen\": 128", "\"seqLen\": 129"));
        assertThat(problems).extracting(Object::toString)
                .containsExactly("batch.seqLen: 129 is longer than the model's context of 128 tokens");
        // an explicit context length overrides the preset's
        RunSpec longer = SpecReader.read(VALID.replace("\"seqLen\": 128", "\"seqLen\": 256")
                .replace("{ \"preset\": \"toy-s\" }", "{ \"preset\": \"toy-s\", \"contextLength\": 256 }"), "s");
        assertThat(longer.batch().seqLen()).isEqualTo(256);
        // no comparison where the context length is unknown: an unknown preset, a context length of the wrong type
        assertThat(problems(VALID.replace("\"seqLen\": 128", "\"seqLen\": 100000").replace("toy-s", "toy-q")))
                .extracting(Problems.Problem::path).containsExactly("model.preset");
        assertThat(problems(VALID.replace("\"seqLen\": 128", "\"seqLen\": 100000")
                .replace("{ \"preset\": \"toy-s\" }", "{ \"preset\": \"toy-s\", \"contextLength\": \"long\" }")))
                .extracting(Object::toString).containsExactly("model.contextLength: expected a whole number, got \"long\"");
    }

    @Test
    void missingLrIsFineWhenTheRunHasOne() {
        String json = VALID.replace("\"lr\": { \"type\": \"cosine\", \"max\": 3e-3, \"min\": 3e-4, \"warmup\": 0.01 },", "");
        assertThat(problems(json)).extracting(Object::toString)
                .containsExactly("stages[0].lr: missing, and the run has no lr of its own to span all stages");
        RunSpec spec = SpecReader.read(json.replace("\"name\": \"pile-to-german-rewarm-replay25\",",
                "\"name\": \"x\", \"lr\": { \"type\": \"constant\", \"value\": 1e-4 },"), "s");
        assertThat(spec.stages().get(0).lr()).isNull();
        assertThat(spec.lr()).isEqualTo(new ScheduleSpec.Constant(1e-4));
    }

    @Test
    void replayFromADatasetTrainedOnlyLaterOrWithAFullPool() {
        // The first stage cannot replay: nothing was consumed before it.
        String json = VALID.replace("\"mix\": { \"en\": 1.0 },", "\"mix\": { \"en\": 1.0 }, \"replay\": { \"fraction\": 0.1, \"from\": { \"de\": 1 } },");
        assertThat(problems(json)).extracting(Object::toString).containsExactly(
                "stages[0].replay.from.de: no earlier stage trained on \"de\", so there is nothing consumed to replay"
                        + " (train on it first, or set replay.pool to \"full\")");
        // with the full pool, the whole training set of "de" may be replayed
        RunSpec spec = SpecReader.read(json.replace("\"from\": { \"de\": 1 } }", "\"from\": { \"de\": 1 }, \"pool\": \"full\" }"), "s");
        assertThat(spec.stages().get(0).replay().pool()).isEqualTo(ReplaySpec.Pool.FULL);
    }

    @Test
    void wholeNumbersMayBeWrittenWithAnExponentButNotWithAFraction() {
        RunSpec spec = SpecReader.read(VALID.replace("\"steps\": 1e2", "\"steps\": 100.0"), "s");
        assertThat(spec.stages().get(1).steps()).isEqualTo(100L);
        List<Problems.Problem> problems = problems(VALID.replace("\"tokens\": 4e6", "\"tokens\": 4.0000005e6"));
        assertThat(problems).extracting(Object::toString)
                .containsExactly("stages[0].tokens: expected a whole number, got 4000000.5");
        assertThat(problems(VALID.replace("\"sequences\": 16", "\"sequences\": 3000000000"))).extracting(Object::toString)
                .containsExactly("batch.sequences: expected a whole number, got 3000000000");
        assertThat(problems(VALID.replace("\"sequences\": 16", "\"sequences\": \"16\""))).extracting(Object::toString)
                .containsExactly("batch.sequences: expected a whole number, got \"16\"");
    }

    @Test
    void noFollowUpProblemForAValueAlreadyReported() {
        // tokens 12.5 is reported; steps is not "missing" as well
        assertThat(problems(VALID.replace("\"tokens\": 4e6", "\"tokens\": 12.5"))).extracting(Object::toString)
                .containsExactly("stages[0].tokens: expected a whole number, got 12.5");
        // cooldownSteps 2.5 is reported; cooldown is not "missing" as well
        String cooldown = VALID.replace("\"cooldown\": 0.6", "\"cooldownSteps\": 2.5");
        assertThat(problems(cooldown)).extracting(Object::toString)
                .containsExactly("stages[1].lr.cooldownSteps: expected a whole number, got 2.5");
        // a piece's untilStep "10" is reported; until is not "missing" as well
        String piece = VALID.replace("{ \"type\": \"constant\", \"value\": 0.1 }",
                "{ \"type\": \"piecewise\", \"pieces\": [ { \"untilStep\": \"10\", \"value\": 0 }, { \"until\": 1, \"value\": 0.1 } ] }");
        assertThat(problems(piece)).extracting(Object::toString)
                .containsExactly("stages[0].weightDecay.pieces[0].untilStep: expected a whole number, got \"10\"");
        // a missing or negative weight is reported; "weights are all zero" would only repeat it
        assertThat(problems(VALID.replace("\"mix\": { \"de\": 1.0 }", "\"mix\": { \"de\": null }"))).extracting(Object::toString)
                .containsExactly("stages[1].mix.de: missing weight");
        assertThat(problems(VALID.replace("\"mix\": { \"de\": 1.0 }", "\"mix\": { \"de\": -1 }"))).extracting(Object::toString)
                .containsExactly("stages[1].mix.de: weight -1 must be a non-negative number");
        assertThat(problems(VALID.replace("\"mix\": { \"de\": 1.0 }", "\"mix\": { \"de\": 0 }"))).extracting(Object::toString)
                .containsExactly("stages[1].mix: weights are all zero");
    }

    @Test
    void malformedJsonReportsLineAndColumn() {
        // line 3 is '  "seed": }': the '}' is in column 11
        List<Problems.Problem> problems = problems("{\n  \"name\": \"x\",\n  \"seed\": }\n");
        assertThat(problems).hasSize(1);
        assertThat(problems.get(0).path()).isEqualTo("line 3, column 11");
        assertThat(problems.get(0).message()).contains("not valid JSON", "'}'");

        // inside a nested object too: line 4 is '      "mix": { "en": 1.0 ] } ] }', the ']' is in column 26
        String nested = "{ \"name\": \"x\",\n  \"stages\": [\n    { \"name\": \"a\", \"steps\": 10,\n"
                + "      \"mix\": { \"en\": 1.0 ] } ] }";
        problems = problems(nested);
        assertThat(problems).hasSize(1);
        assertThat(problems.get(0).path()).isEqualTo("line 4, column 26");
        assertThat(problems.get(0).message()).contains("not valid JSON", "']'");

        problems = problems("{ \"name\": \"x\",\n  \"stages\": [\n");
        assertThat(problems).hasSize(1);
        assertThat(problems.get(0).path()).isEqualTo("line 3, column 1");   // the end, after the last newline
        assertThat(problems.get(0).message()).contains("not valid JSON", "end-of-input");
    }

    @Test
    void duplicateKeysAreProblems() {
        // line 3 is '  "name": "y"}': the parser stands on the ':' after the repeated key, in column 9
        List<Problems.Problem> problems = problems("{\n  \"name\": \"x\",\n  \"name\": \"y\"}");
        assertThat(problems).hasSize(1);
        assertThat(problems.get(0).path()).isEqualTo("line 3, column 9");
        assertThat(problems.get(0).message()).contains("Duplicate field 'name'");

        // nested, in a stage's mix: line 2 is '    "mix": { "en": 1.0, "en": 2.0 } } ] }', the ':' after the second "en" is in column 29
        String nested = "{ \"name\": \"x\", \"stages\": [ { \"name\": \"a\", \"steps\": 10,\n"
                + "    \"mix\": { \"en\": 1.0, \"en\": 2.0 } } ] }";
        problems = problems(nested);
        assertThat(problems).hasSize(1);
        assertThat(problems.get(0).path()).isEqualTo("line 2, column 29");
        assertThat(problems.get(0).message()).contains("Duplicate field 'en'");
    }

    @Test
    void emptySpec() {
        assertThat(problems("null")).extracting(Object::toString).containsExactly("the spec is empty (null)");
        assertThat(problems("")).hasSize(1);
    }

    @Test
    void scalarsOfTheWrongKindAreNotCoerced() {
        // a number where a string is expected, a string where a flag is expected
        List<Problems.Problem> problems = problems(VALID.replace("\"resetOptimizer\": true", "\"resetOptimizer\": \"yes\""));
        assertThat(problems).extracting(Object::toString)
                .containsExactly("stages[1].resetOptimizer: expected true or false, got \"yes\"");
        problems = problems(VALID.replace("\"mix\": { \"de\": 1.0 }", "\"mix\": { \"de\": \"1.0\" }"));
        assertThat(problems).hasSize(1);
        assertThat(problems.get(0).path()).isEqualTo("stages[1].mix.de");
        assertThat(problems.get(0).message()).contains("expected a number", "\"1.0\"");
    }

    @Test
    void readingAFileThatIsNotThere() {
        assertThatThrownBy(() -> SpecReader.read(java.nio.file.Path.of("/nonexistent/spec.json")))
                .isInstanceOf(SpecException.class).hasMessageContaining("no such file");
    }
}
