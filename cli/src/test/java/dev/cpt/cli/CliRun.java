package dev.cpt.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/** Runs the cpt command in-process with captured stdout and stderr. */
record CliRun(int code, String out, String err) {

    static CliRun run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Cpt.commandLine(new PrintWriter(out), new PrintWriter(err)).execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }

    /** Writes {@code json} as {@code name} in {@code dir} and returns its path as a string. */
    static String spec(Path dir, String name, String json) throws IOException {
        return Files.writeString(dir.resolve(name), json).toString();
    }

    /** A one-stage spec of {@code steps} steps with the given lr schedule JSON (weight decay: default). */
    static String oneStage(long steps, String lr) {
        return """
            { "name": "one-stage",
              "model": { "preset": "toy-xs" },
              "batch": { "sequences": 4, "seqLen": 16 },
              "datasets": { "en": { "train": "data/en/train.bin", "val": "data/en/val.bin" } },
              "stages": [ { "name": "train", "steps": %d, "mix": { "en": 1.0 }, "lr": %s } ] }
            """.formatted(steps, lr);
    }

    /** Two stages, en then de, each with its own cosine; the second with replay and a reset. */
    static String twoStage(long steps1, long steps2) {
        return """
            { "name": "two-stage",
              "model": { "preset": "toy-xs" },
              "batch": { "sequences": 4, "seqLen": 16 },
              "datasets": { "en": { "train": "en.bin", "val": "en-val.bin" },
                            "de": { "train": "de.bin", "val": "de-val.bin" } },
              "stages": [
                { "name": "pretrain", "steps": %d, "mix": { "en": 1.0 },
                  "lr": { "type": "cosine", "max": 3e-3, "min": 3e-4, "warmupSteps": 10 },
                  "weightDecay": { "type": "constant", "value": 0.05 } },
                { "name": "continue", "steps": %d, "mix": { "de": 1.0 },
                  "replay": { "fraction": 0.25, "from": { "en": 1.0 } }, "resetOptimizer": true,
                  "lr": { "type": "cosine", "max": 3e-3, "min": 3e-4, "warmupSteps": 10 } } ] }
            """.formatted(steps1, steps2);
    }
}
