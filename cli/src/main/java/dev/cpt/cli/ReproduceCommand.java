package dev.cpt.cli;

import dev.cpt.reproduce.Claim;
import dev.cpt.reproduce.Experiment;
import dev.cpt.reproduce.ModelScale;
import dev.cpt.reproduce.Reproduction;
import dev.cpt.reproduce.ScaledSweep;
import dev.cpt.reproduce.Workload;
import dev.cpt.sweep.SharedStages;
import dev.cpt.sweep.SweepListener;
import dev.cpt.sweep.SweepResult;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cpt reproduce --out DIR}: the paper's experiments on the simulator, and the claims report. */
@Command(name = "reproduce",
        sortOptions = false,
        description = {
            "Run the experiments of PAPER.md (the sweep specs in examples/paper/) on the simulator at two model scales "
                    + "(toy-xs, and toy-s for the §6 experiments), judge the claims C1-C14 by rules fixed in code, and write "
                    + "DIR/report.md: a claims table with every comparison's per-seed numbers and verdict at each scale, whether "
                    + "the rankings of §6.1/§6.2 hold across scale (Kendall's tau), and per experiment a table of final losses "
                    + "and the paper's figures.",
            "",
            "Runs from the project's root (the specs name data/builtin/...); builds the built-in corpora first when "
                    + "data/builtin is missing. A rerun reuses finished runs and resumes interrupted ones. "
                    + "Full (3 seeds, both scales): 76 min measured on 2 cores (123 min with --no-share); --quick (1/3 of the steps, 2 seeds): 17 min, "
                    + "a smoke run whose shorter budgets change some verdicts (examples/paper/README.md).",
            "",
            "--models toy-xs-long,toy-s-long (opt-in) runs C2, C7 and C8 again with pre-training long enough that D0 has "
                    + "(nearly) stopped improving at the boundary: docs/reproduction/long-pretraining.md."
        })
final class ReproduceCommand implements Callable<Integer> {

    /** The step-count scale of --quick. */
    static final double QUICK_SCALE = 1.0 / 3;

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where the runs and report.md go.")
    Path out;

    @Option(names = "--quick", description = "Every step count ×1/3 (as --scale 0.3333) and 2 seeds unless --seeds is given.")
    boolean quick;

    @Option(names = "--scale", paramLabel = "F", description = "Multiply every step count of the specs by F (default 1; --quick: 1/3).")
    Double scale;

    /** Seeds of a full run and of --quick. */
    static final int SEEDS = 3, QUICK_SEEDS = 2;

    @Option(names = "--seeds", paramLabel = "N",
            description = "Seeds 1..N of every run; verdicts need at least 2. Default: 3 (--quick: 2).")
    Integer seeds;

    @Option(names = "--models", split = ",", paramLabel = "SCALE",
            description = "The model scales (comma-separated): toy-xs runs every experiment, toy-s the §6 ones at the same budgets; "
                    + "toy-xs-long and toy-s-long (opt-in) pre-train 8x and 4x longer and judge C2, C7 and C8 only. "
                    + "Default: toy-xs,toy-s; C14 and the transfer table need both of those.")
    List<String> models = new ArrayList<>(List.of("toy-xs", "toy-s"));

    @Option(names = "--jobs", defaultValue = "0", paramLabel = "N", description = "Runs at once (default: one per core).")
    int jobs;

    @Option(names = "--only", split = ",", paramLabel = "EXPERIMENT",
            description = "Run only these experiments (comma-separated): rewarm, replay, recipe, no-shift, infinite, iid-splits, ptwd.")
    List<String> only = new ArrayList<>();

    @Option(names = "--specs", defaultValue = "examples/paper", paramLabel = "DIR",
            description = "The experiments' sweep specs. Default: ${DEFAULT-VALUE}.")
    Path specs;

    @Option(names = "--root", defaultValue = ".", paramLabel = "DIR",
            description = "The directory the specs' data paths (data/builtin/...) are relative to; the built-in corpora "
                    + "are built there when missing. Default: the current directory.")
    Path root;

    @Option(names = "--no-share",
            description = "Train every run's every step (by default runs that agree up to a stage end, within and across "
                    + "experiments, train that stage once; the records are the same either way).")
    boolean noShare;

    @Override
    public Integer call() throws Exception {
        if (quick && scale != null) throw new CliException("--quick and --scale: give one of them");
        double f = scale != null ? scale : quick ? QUICK_SCALE : 1;
        if (!(f > 0) || Double.isInfinite(f)) throw new CliException("--scale must be positive, not " + scale);
        int n = seeds != null ? seeds : quick ? QUICK_SEEDS : SEEDS;
        if (n < 1) throw new CliException("--seeds must be at least 1, not " + n);
        List<ModelScale> scales = new ArrayList<>();
        for (String m : models) {
            try {
                ModelScale s = ModelScale.byName(m);
                if (scales.contains(s)) throw new CliException("--models: " + m + " is given twice");
                scales.add(s);
            } catch (IllegalArgumentException e) {
                throw new CliException("--models: " + e.getMessage());
            }
        }
        if (scales.isEmpty()) throw new CliException("--models: name at least one scale");
        for (String id : only) {
            try {
                Experiment.byId(id);
            } catch (IllegalArgumentException e) {
                throw new CliException("--only: " + e.getMessage());
            }
        }
        if (!ScaledSweep.hasAll(specs)) {
            throw new CliException(specs + " does not hold the experiments' specs (" + String.join(", ",
                    Experiment.ALL.stream().map(Experiment::file).toList()) + "); run from the project's root or give --specs");
        }
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int j = jobs > 0 ? jobs : Runtime.getRuntime().availableProcessors();
        StringBuilder command = new StringBuilder("cpt reproduce");
        if (quick) command.append(" --quick");
        if (scale != null) command.append(" --scale ").append(scale);
        command.append(" --seeds ").append(n);
        if (!models.equals(List.of("toy-xs", "toy-s"))) command.append(" --models ").append(String.join(",", models));
        if (!only.isEmpty()) command.append(" --only ").append(String.join(",", only));
        if (!root.equals(Path.of("."))) command.append(" --root ").append(root);
        if (noShare) command.append(" --no-share");
        command.append(" --out ").append(out);
        var options = new Reproduction.Options(f, n, j, List.copyOf(only), List.copyOf(scales), command.toString());

        Reproduction.read(specs, options); // every spec valid before anything is built or run
        Path builtin = root.resolve("data/builtin").normalize();
        if (!Files.exists(builtin.resolve("corpora.json"))) {
            err.println("building the built-in corpora first: cpt prepare --builtin " + builtin);
            int rc = new CommandLine(new Cpt()).setOut(o).setErr(err).execute("prepare", "--builtin", builtin.toString());
            if (rc != 0) throw new CliException("cpt prepare --builtin " + builtin + " failed (exit " + rc + ")");
        }

        Progress.SweepBar[] bar = new Progress.SweepBar[1];
        SharedStages shared = noShare ? SharedStages.none() : SharedStages.create();
        Reproduction.Result result;
        try {
            ReproduceProgress overall = new ReproduceProgress(System::nanoTime);
            result = Reproduction.run(specs, out, options, Engines.Kind.sim.factory(), Engines.dataProvider(root), new Reproduction.Listener() {
                @Override
                public void started(Workload work) {
                    overall.started(work);
                    err.println(ReproduceProgress.summary(work));
                    err.flush();
                }

                @Override
                public SweepListener experimentStarted(Reproduction.Part part, int reused) {
                    Experiment e = part.experiment();
                    bar[0] = new Progress.SweepBar(err, overall.nextPart() + e.section() + " " + e.id() + " at " + part.model().name()
                            + " ({runs}" + (reused > 0 ? ", " + reused + " reused" : "") + ")", overall::context);
                    return bar[0];
                }

                @Override
                public void experimentFinished(Reproduction.Part part, SweepResult r) {
                    bar[0].close();
                }
            }, shared);
        } catch (IllegalStateException e) {
            throw new CliException(e.getMessage(), e);
        } finally {
            if (bar[0] != null) bar[0].close();
        }
        // One line a claim: its verdict at each scale that tested it.
        for (dev.cpt.reproduce.Claim claim : dev.cpt.reproduce.Claims.all()) {
            StringBuilder line = new StringBuilder("  " + claim.id() + ":");
            String sep = " ";
            for (ModelScale m : scales) {
                for (Claim.Result at : result.claims().get(m)) {
                    if (!at.claim().id().equals(claim.id())) continue;
                    line.append(sep).append(at.verdict()).append(" at ").append(m.name());
                    sep = ", ";
                }
            }
            if (!sep.equals(" ")) o.println(line);
        }
        if (result.c14() != null) o.println("  C14: " + result.c14().verdict() + " (toy-s against toy-xs)");
        if (shared.savedSteps() > 0) {
            o.println(String.format(java.util.Locale.ROOT, "shared stages: %,d steps were not trained again", shared.savedSteps()));
        }
        o.println(Progress.withFigureNote("report: " + result.report()));
        if (!result.ok()) {
            err.println(result.failures().size() + " run(s) failed:");
            for (String f2 : result.failures()) err.println("  " + f2);
            return Cpt.EXIT_FAILURE;
        }
        return 0;
    }
}
