package dev.cpt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cpt.record.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The synthetic stand-ins for the Debian corpora must behave as the paper's shifts do: continued
 * training on either shift's D1 makes the model forget D0 (its loss on en rises), the strong shift
 * more than the weak one. A short toy-xs run of each, sharing its pre-training, as the main job is
 * set up (same batch, schedules, optimizer reset), with fewer steps.
 */
class SyntheticForgettingTest {
    @TempDir
    Path tmp;

    @Test
    void bothShiftsForgetD0AndTheStrongOneMore() throws IOException {
        Path data = tmp.resolve("builtin");
        CliRun prepare = CliRun.run("prepare", "--builtin", data.toString(), "--synthetic", "--max-mb", "2");
        assertThat(prepare.code()).as(prepare.err()).isZero();

        String base = """
            { "name": "synthetic-forgetting", "seed": 1,
              "model": { "preset": "toy-xs" },
              "batch": { "sequences": 16, "seqLen": 64 },
              "datasets": {
                "en":   { "train": "DATA/en/train.bin",   "val": "DATA/en/val.bin" },
                "en-b": { "train": "DATA/en-b/train.bin", "val": "DATA/en-b/val.bin" },
                "de":   { "train": "DATA/de/train.bin",   "val": "DATA/de/val.bin" } },
              "stages": [
                { "name": "pretrain", "steps": 400, "mix": { "en": 1.0 },
                  "lr": { "type": "cosine", "max": 3e-3, "min": 3e-4, "warmup": 0.01 } },
                { "name": "continue", "steps": 300, "mix": { "de": 1.0 }, "resetOptimizer": true,
                  "lr": { "type": "cosine", "max": 3e-3, "min": 3e-4, "warmup": 0.01 } } ],
              "eval": { "every": 50, "batches": 4 },
              "finalLoss": { "lastSteps": 50, "every": 10 } }
            """.replace("DATA", data.toString());
        Files.writeString(tmp.resolve("base.json"), base);
        Path sweep = Files.writeString(tmp.resolve("sweep.json"), """
            { "name": "synthetic-forgetting", "base": "base.json",
              "variants": { "weak": { "stages[1].mix": { "en-b": 1.0 } }, "strong": { "stages[1].mix": { "de": 1.0 } } } }
            """);
        Path out = tmp.resolve("sweep");
        CliRun r = CliRun.run("sweep", sweep.toString(), "--out", out.toString(), "--jobs", "2");
        assertThat(r.code()).as(r.err()).isZero();

        double weak = forgettingOfEn(out, "weak");
        double strong = forgettingOfEn(out, "strong");
        System.out.printf("synthetic forgetting of en: weak %+.4f, strong %+.4f%n", weak, strong);
        assertThat(weak).as("forgetting of en after the weak shift").isGreaterThan(0.02);
        assertThat(strong).as("forgetting of en after the strong shift").isGreaterThan(weak);

        assertThat(Files.readAllLines(out.resolve("report.md")).getFirst())
                .startsWith("> **These results come from synthetic text, not the Debian corpora:**")
                .contains(data.resolve("corpora.json").toString());
    }

    private static double forgettingOfEn(Path sweepOut, String variant) throws IOException {
        JsonNode summary = Json.MAPPER.readTree(sweepOut.resolve("runs").resolve(variant).resolve("summary.json").toFile());
        JsonNode f = summary.path("datasets").path("en").path("forgetting");
        assertThat(f.isNumber()).as(variant + " summary.json datasets.en.forgetting").isTrue();
        return f.asDouble();
    }
}
