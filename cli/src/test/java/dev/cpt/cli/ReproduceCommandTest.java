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
 * on small synthetic corpora, at both model scales. It checks that the report, its claims table (with
 * C14) and the transfer table are produced and well formed, not what the verdicts are (at 30 steps a
 * stage they mean nothing).
 */
class ReproduceCommandTest {

    static final Path SPECS = Path.of("..", "examples", "paper");

    @TempDir
    Path tmp;

    /** Builds small synthetic corpora under tmp, then runs {@code cpt reproduce} on them with 2 seeds and 2 jobs into {@code out}. */
    private CliRun reproduceOnSyntheticCorpora(Path out, String... options) {
        CliRun data = CliRun.run("prepare", "--builtin", tmp.resolve("data/builtin").toString(), "--synthetic", "--max-mb", "1");
        assertThat(data.code()).as(data.err()).isZero();
        List<String> args = new java.util.ArrayList<>(List.of("reproduce", "--specs", SPECS.toString(), "--root", tmp.toString(),
                "--seeds", "2", "--jobs", "2", "--out", out.toString()));
        args.addAll(List.of(options));
        CliRun r = CliRun.run(args.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        return r;
    }

    @Test
    void theMiniatureWritesAReportWithEveryClaimJudged() throws IOException {
        Path out = tmp.resolve("repro");
        CliRun r = reproduceOnSyntheticCorpora(out, "--scale", "0.025");
        String verdict = "(reproduced|not reproduced|inconclusive)";
        for (int c = 1; c <= 13; c++) assertThat(r.out()).containsPattern("C" + c + ": " + verdict + " at toy-xs");
        // The §6 claims are judged at toy-s too, C14 across the two.
        for (int c : new int[] {1, 2, 3, 4, 6, 7, 8, 9, 10}) {
            assertThat(r.out()).containsPattern("C" + c + ": " + verdict + " at toy-xs, " + verdict + " at toy-s");
        }
        assertThat(r.out()).containsPattern("C14: " + verdict + " \\(toy-s against toy-xs\\)");
        // The whole run's progress: how much there is to train, and which part of how many each line is.
        assertThat(r.err()).containsPattern("cpt reproduce: 10 parts, [0-9,]+ training steps to go \\(toy-xs [0-9,]+, toy-s [0-9,]+\\)");
        assertThat(r.err()).contains("[1/10] §6.1 rewarm at toy-xs", "[10/10] §6.3 recipe at toy-s");

        String md = Files.readString(out.resolve("report.md"));
        // One row per claim C1..C14, in order: at each scale a count of reproduced comparisons and a verdict,
        // or "not run" where the scale does not run the claim's experiments (C14 is judged across scales).
        String cell = "(?:(\\d+) / (\\d+) \\| \\*\\*(?:reproduced|not reproduced|inconclusive)\\*\\*|— \\| not run|— \\| —)";
        Matcher row = Pattern.compile("^\\| (C\\d+) \\| [^\\n|]+ \\| " + cell + " \\| " + cell + " \\|$", Pattern.MULTILINE).matcher(md);
        List<String> ids = new java.util.ArrayList<>();
        List<String> atToyS = new java.util.ArrayList<>();
        while (row.find()) {
            ids.add(row.group(1));
            for (int g : new int[] {2, 4}) {
                if (row.group(g) == null) continue;
                assertThat(Integer.parseInt(row.group(g))).isLessThanOrEqualTo(Integer.parseInt(row.group(g + 1)));
                assertThat(Integer.parseInt(row.group(g + 1))).isPositive();
            }
            if (row.group(4) != null) atToyS.add(row.group(1));
        }
        assertThat(ids).containsExactly("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "C10", "C11", "C12", "C13", "C14");
        assertThat(atToyS).containsExactly("C1", "C2", "C3", "C4", "C6", "C7", "C8", "C9", "C10", "C14");
        assertThat(md).contains("### C14 at toy-s against toy-xs: ");
        // The transfer table: §6.1 and §6.2, each shift, by average final loss and by forgetting, with τ for both seeds.
        Matcher transfer = Pattern.compile("^\\| `(rewarm|replay)` \\| (weak|strong) \\| (average final loss \\(D0, D1\\)|forgetting of D0) \\| "
                + "([^|]+) \\| ([^|]+) \\| 1: [+-]\\d\\.\\d{4}, 2: [+-]\\d\\.\\d{4} \\| [+-]\\d\\.\\d{4} ± \\d\\.\\d{4} \\| (yes|no) \\(",
                Pattern.MULTILINE).matcher(md.substring(md.indexOf("## Transfer across scale")));
        int transferRows = 0;
        while (transfer.find()) {
            transferRows++;
            // Both rankings order the same variants.
            assertThat(List.of(transfer.group(4).trim().split(" < "))).containsExactlyInAnyOrder(transfer.group(5).trim().split(" < "));
        }
        assertThat(transferRows).isEqualTo(8);
        // Every comparison measured on both seeds: no run was missing.
        assertThat(md).doesNotContain("no result for seed").doesNotContain("needs at least 2 seeds");
        assertThat(md).contains("## Method", "## §6.1", "## §6.2", "## §6.3", "## §7.1", "## §7.3", "## §7.4", "## SlimPajama-DC",
                "(`rewarm`, toy-s)", "(`replay`, toy-s)", "(`recipe`, toy-s)");
        // The figures the report links exist.
        Matcher img = Pattern.compile("!\\[[^]]*]\\(([^)]+)\\)").matcher(md);
        int images = 0;
        while (img.find()) {
            assertThat(out.resolve(img.group(1))).isRegularFile();
            images++;
        }
        assertThat(images).isGreaterThanOrEqualTo((7 + 3) * 2);
        // Runs identical across experiments are trained once: the recipe's are the replay sweep's.
        assertThat(out.resolve("recipe/runs/weak-union@seed=1/reused.json")).isRegularFile();
        assertThat(out.resolve("toy-s/recipe/runs/weak-union@seed=1/reused.json")).isRegularFile();
        // toy-s has no warmup-length variants.
        assertThat(out.resolve("toy-s/rewarm/runs/weak-redecay-1x-warmup-2pct@seed=1")).doesNotExist();

        // A rerun trains nothing and writes the same claims.
        CliRun again = CliRun.run("reproduce", "--specs", SPECS.toString(), "--root", tmp.toString(), "--scale", "0.025",
                "--seeds", "2", "--jobs", "2", "--out", out.toString());
        assertThat(again.code()).as(again.err()).isZero();
        // the first run shared pre-training across runs and experiments and said so; the rerun trained nothing to share
        assertThat(r.out()).containsPattern("shared stages: [0-9,]+ steps were not trained again");
        assertThat(again.out()).doesNotContain("shared stages:");
        assertThat(again.out()).isEqualTo(r.out().replaceAll("shared stages: [0-9,]+ steps were not trained again\\R", ""));
    }

    /**
     * The opt-in long-pre-training scale in miniature: only C2, C7 and C8 are judged, only their
     * variants run, pre-training and the union are lengthened, and the boundary table names the scale.
     */
    @Test
    void aLongPretrainingScaleJudgesC2C7C8Only() throws IOException {
        Path out = tmp.resolve("long");
        CliRun r = reproduceOnSyntheticCorpora(out, "--scale", "0.0125", "--models", "toy-xs-long");
        String verdict = "(reproduced|not reproduced|inconclusive)";
        // One line a claim judged: C2, C7 and C8 at the long scale, nothing else (no C14 without toy-xs and toy-s).
        assertThat(r.out().lines().filter(l -> l.matches("  C\\d+: .*")).map(l -> l.trim().split(":")[0])).containsExactly("C2", "C7", "C8");
        for (String c : List.of("C2", "C7", "C8")) assertThat(r.out()).containsPattern("  " + c + ": " + verdict + " at toy-xs-long\\R");
        long p = Math.round(dev.cpt.reproduce.ModelScale.TOY_XS_LONG.pretrainSteps() * 0.0125);
        String md = Files.readString(out.resolve("report.md"));
        assertThat(md).contains("| toy-xs-long | `strong-redecay-1x` | " + String.format(java.util.Locale.ROOT, "%,d", p) + " | ");
        assertThat(md).contains("### C2 at toy-xs-long", "### C7 at toy-xs-long", "### C8 at toy-xs-long")
                .doesNotContain("### C1 at").doesNotContain("## Transfer across scale");
        assertThat(md).doesNotContain("no result for seed");
        // Only what the three claims compare; the weak recipe is replay 5%, reused.
        assertThat(out.resolve("toy-xs-long/rewarm/runs/strong-redecay-2x@seed=2/summary.json")).isRegularFile();
        assertThat(out.resolve("toy-xs-long/rewarm/runs/weak-redecay-2x@seed=1")).doesNotExist();
        assertThat(out.resolve("toy-xs-long/recipe/runs/weak-recipe-replay-5pct@seed=1/reused.json")).isRegularFile();
        assertThat(out.resolve("toy-xs-long/recipe/runs/weak-d1-only@seed=1")).doesNotExist();
        assertThat(Files.readString(out.resolve("toy-xs-long/recipe/runs/weak-union@seed=1/spec.json")))
                .contains("\"steps\" : " + Math.round((dev.cpt.reproduce.ModelScale.TOY_XS_LONG.pretrainSteps() + 1200) * 0.0125));
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

        CliRun model = CliRun.run("reproduce", "--models", "toy-xs,toy-m", "--specs", SPECS.toString(), "--out", tmp.toString());
        assertThat(model.code()).isNotZero();
        assertThat(model.err()).contains("--models").contains("\"toy-m\"").contains("toy-xs, toy-s");

        CliRun twice = CliRun.run("reproduce", "--models", "toy-xs,toy-xs-long,toy-xs", "--specs", SPECS.toString(), "--out", tmp.toString());
        assertThat(twice.code()).isNotZero();
        assertThat(twice.err()).contains("--models: toy-xs is given twice");
    }
}
