package dev.cpt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CI miniature of {@code cpt reproduce}: every experiment of examples/paper at 1/40 of its steps
 * on small synthetic corpora. It checks that the report and its claims table are produced and well
 * formed, not what the verdicts are (at 30 steps a stage they mean nothing).
 */
class ReproduceCommandTest {

    static final Path SPECS = Path.of("..", "examples", "paper");

    @TempDir
    Path tmp;

    @Test
    void theMiniatureWritesAReportWithEveryClaimJudged() throws IOException {
        CliRun data = CliRun.run("prepare", "--builtin", tmp.resolve("data/builtin").toString(), "--synthetic", "--max-mb", "1");
        assertThat(data.code()).as(data.err()).isZero();
        Path out = tmp.resolve("repro");
        CliRun r = CliRun.run("reproduce", "--specs", SPECS.toString(), "--root", tmp.toString(), "--scale", "0.025",
                "--seeds", "2", "--jobs", "2", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        for (int c = 1; c <= 13; c++) assertThat(r.out()).containsPattern("C" + c + ": (reproduced|not reproduced|inconclusive)");

        String md = Files.readString(out.resolve("report.md"));
        // One row per claim C1..C13, in order, each with a count of reproduced comparisons and a verdict.
        Matcher row = Pattern.compile("^\\| (C\\d+) \\| [^\\n]+ \\| (\\d+) / (\\d+) \\| \\*\\*(reproduced|not reproduced|inconclusive)\\*\\* \\|$",
                Pattern.MULTILINE).matcher(md);
        List<String> ids = new java.util.ArrayList<>();
        while (row.find()) {
            ids.add(row.group(1));
            assertThat(Integer.parseInt(row.group(2))).isLessThanOrEqualTo(Integer.parseInt(row.group(3)));
            assertThat(Integer.parseInt(row.group(3))).isPositive();
        }
        assertThat(ids).containsExactly("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "C10", "C11", "C12", "C13");
        // Every comparison measured on both seeds: no run was missing.
        assertThat(md).doesNotContain("no result for seed").doesNotContain("needs at least 2 seeds");
        assertThat(md).contains("## Method", "## §6.1", "## §6.2", "## §6.3", "## §7.1", "## §7.3", "## §7.4", "## SlimPajama-DC");
        // The figures the report links exist.
        Matcher img = Pattern.compile("!\\[[^]]*]\\(([^)]+)\\)").matcher(md);
        int images = 0;
        while (img.find()) {
            assertThat(out.resolve(img.group(1))).isRegularFile();
            images++;
        }
        assertThat(images).isGreaterThanOrEqualTo(7 * 2);
        // Runs identical across experiments are trained once: the recipe's are the replay sweep's.
        assertThat(out.resolve("recipe/runs/weak-union@seed=1/reused.json")).isRegularFile();

        // A rerun trains nothing and writes the same claims.
        CliRun again = CliRun.run("reproduce", "--specs", SPECS.toString(), "--root", tmp.toString(), "--scale", "0.025",
                "--seeds", "2", "--jobs", "2", "--out", out.toString());
        assertThat(again.code()).as(again.err()).isZero();
        // the first run shared pre-training across runs and experiments and said so; the rerun trained nothing to share
        assertThat(r.out()).containsPattern("shared stages: [0-9,]+ steps were not trained again");
        assertThat(again.out()).doesNotContain("shared stages:");
        assertThat(again.out()).isEqualTo(r.out().replaceAll("shared stages: [0-9,]+ steps were not trained again\\R", ""));
    }

    @Test
    void badOptionsAreNamed() {
        CliRun both = CliRun.run("reproduce", "--quick", "--scale", "0.5", "--out", tmp.toString());
        assertThat(both.code()).isNotZero();
        assertThat(both.err()).contains("--quick and --scale");

        CliRun unknown = CliRun.run("reproduce", "--only", "rewarm,nope", "--specs", SPECS.toString(), "--out", tmp.toString());
        assertThat(unknown.code()).isNotZero();
        assertThat(unknown.err()).contains("--only").contains("\"nope\"").contains("rewarm, replay");

        CliRun noSpecs = CliRun.run("reproduce", "--specs", tmp.toString(), "--out", tmp.resolve("o").toString());
        assertThat(noSpecs.code()).isNotZero();
        assertThat(noSpecs.err()).contains("does not hold the experiments' specs").contains("rewarm.json");

        CliRun seeds = CliRun.run("reproduce", "--seeds", "0", "--specs", SPECS.toString(), "--out", tmp.toString());
        assertThat(seeds.code()).isNotZero();
        assertThat(seeds.err()).contains("--seeds must be at least 1");
    }
}
