package dev.cpt.cli;

import dev.cpt.metrics.RunSummary;
import dev.cpt.sweep.SharedStages;
import dev.cpt.sweep.SweepResult;
import dev.cpt.sweep.SweepRunner;
import dev.cpt.sweep.SweepSpec;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cpt sweep SWEEP.json --out DIR}: every variant of a sweep, in parallel, and the report. */
@Command(name = "sweep",
        sortOptions = false,
        description = {
            "Run every variant of a sweep spec (a base run spec with named variants, a grid of JSON-path overrides "
                    + "and/or seeds) in parallel, each in DIR/runs/VARIANT, then write DIR/report.md with its plots.",
            "",
            "A rerun skips finished variants and resumes interrupted ones; a failing variant is reported and does "
                    + "not stop the others (exit code 1 if any failed)."
        })
final class SweepCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Parameters(index = "0", paramLabel = "SWEEP.json", description = "The sweep spec.")
    Path sweepFile;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The sweep directory.")
    Path out;

    @Option(names = "--jobs", defaultValue = "0", paramLabel = "N",
            description = "Variants run at once (default: one per core); each engine gets cores / N threads.")
    int jobs;

    @Option(names = "--engine", defaultValue = "sim", paramLabel = "ENGINE",
            description = "The engine: ${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}.")
    Engines.Kind engine;

    @Option(names = "--no-share",
            description = "Train every run's every step, even where runs agree up to a stage end (by default such a stage "
                    + "is trained once and the others start from its stage-end checkpoint, with the same records).")
    boolean noShare;

    @Override
    public Integer call() throws Exception {
        SweepSpec sweep = SweepSpec.read(sweepFile);
        int j = jobs > 0 ? jobs : Runtime.getRuntime().availableProcessors();
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        SweepResult result;
        try (Progress.SweepBar bar = new Progress.SweepBar(err, "sweep " + sweep.name() + " ({runs})")) {
            result = SweepRunner.run(sweep, out, j, engine.factory(), Engines.dataProvider(), bar,
                    noShare ? SharedStages.none() : SharedStages.create());
        } catch (IllegalStateException e) {
            throw new CliException(e.getMessage(), e);
        }
        for (var v : result.variants()) {
            RunSummary s = v.summary();
            o.println("  " + v.name() + ": " + (s != null ? Progress.describe(s) : "failed"));
        }
        if (result.sharedSteps() > 0) o.println(sharedLine(result.sharedSteps(), sweep));
        o.println(Progress.withFigureNote("report: " + out.resolve(SweepRunner.REPORT)));
        if (!result.ok()) {
            err.println(result.describeFailures());
            return Cpt.EXIT_FAILURE;
        }
        return 0;
    }

    /** How many steps shared stages saved, against what the sweep's runs would train alone. */
    static String sharedLine(long shared, SweepSpec sweep) {
        long all = sweep.variants().stream().mapToLong(v -> v.plan().totalSteps()).sum();
        return String.format(java.util.Locale.ROOT, "shared stages: %,d of the runs' %,d steps were not trained again (%.0f%%)",
                shared, all, 100.0 * shared / all);
    }
}
