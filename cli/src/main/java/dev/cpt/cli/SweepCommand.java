package dev.cpt.cli;

import dev.cpt.metrics.RunSummary;
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

    @Override
    public Integer call() throws Exception {
        SweepSpec sweep = SweepSpec.read(sweepFile);
        int j = jobs > 0 ? jobs : Runtime.getRuntime().availableProcessors();
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        SweepResult result;
        try (Progress.SweepBar bar = new Progress.SweepBar("sweep " + sweep.name() + " ({runs})")) {
            result = SweepRunner.run(sweep, out, j, engine.factory(), Engines.dataProvider(), bar);
        } catch (IllegalStateException e) {
            throw new CliException(e.getMessage(), e);
        }
        for (var v : result.variants()) {
            RunSummary s = v.summary();
            o.println("  " + v.name() + ": " + (s != null ? Progress.describe(s) : "failed"));
        }
        o.println(Progress.withFigureNote("report: " + out.resolve(SweepRunner.REPORT)));
        if (!result.ok()) {
            err.println(result.describeFailures());
            return Cpt.EXIT_FAILURE;
        }
        return 0;
    }
}
