package dev.cpt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ValidateCommandTest {

    @TempDir
    Path dir;

    private List<String> filesInDir() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void goodSpecPrintsASummary() throws IOException {
        String spec = CliRun.spec(dir, "two.json", CliRun.twoStage(300, 200));
        CliRun r = CliRun.run("validate", spec);

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        List<String> lines = r.out().lines().toList();
        // 4 × 16 = 64 tokens per step.
        assertThat(lines.getFirst()).isEqualTo(spec + ": ok — 2 stages, 500 steps, 32,000 tokens (64 per step)");
        assertThat(lines).hasSize(3);
        assertThat(lines.get(1)).contains("pretrain").contains("0–299").contains("en 100%");
        assertThat(lines.get(2)).contains("continue").contains("300–499").contains("de 75%, replay en 25%")
                .endsWith("optimizer reset");
        assertThat(filesInDir()).containsExactly("two.json");
    }

    @Test
    void badSpecListsEveryProblemExitsWithOneAndWritesNothing() throws IOException {
        String spec = CliRun.spec(dir, "bad.json", """
            { "name": "",
              "model": { "preset": "toy-q" },
              "batch": { "sequences": 0, "seqLen": 16 },
              "datasets": { "en": { "train": "en.bin" } },
              "stages": [ { "name": "s", "steps": 10, "mix": { "fr": 1.0 },
                            "lr": { "type": "cosin", "max": 1e-3 } } ],
              "bogus": 1 }
            """);
        List<String> before = filesInDir();
        CliRun r = CliRun.run("validate", spec);

        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).startsWith(spec + ": 6 problems")
                .contains("name: is empty")
                .contains("model.preset: unknown preset \"toy-q\"")
                .contains("batch.sequences: 0 must be positive")
                .contains("stages[0].mix.fr: unknown dataset \"fr\"")
                .contains("stages[0].lr.type: unknown type \"cosin\"")
                .contains("bogus: unknown field")
                .doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(filesInDir()).isEqualTo(before);
    }

    @Test
    void missingFileIsAProblemNotACrash() {
        CliRun r = CliRun.run("validate", dir.resolve("nope.json").toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("nope.json").contains("no such file");
    }

    @Test
    void checksEverySpecGivenAndFailsIfAnyFails() throws IOException {
        String good = CliRun.spec(dir, "good.json", CliRun.twoStage(30, 20));
        String bad = CliRun.spec(dir, "bad.json", "{ not json");
        CliRun r = CliRun.run("validate", bad, good);

        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).startsWith(good + ": ok");
        assertThat(r.err()).startsWith(bad + ": 1 problem").contains("not valid JSON");
    }

    @Test
    void needsASpec() {
        CliRun r = CliRun.run("validate");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("SPEC.json");
    }
}
