package dev.cpt.cli;

import dev.cpt.data.DataSources;
import dev.cpt.metrics.RunSummary;
import dev.cpt.plan.RunPlan;
import dev.cpt.record.StepRecord;
import dev.cpt.report.RunReport;
import dev.cpt.train.Engine;
import dev.cpt.train.TrainingLoop;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cpt train SPEC.json --out DIR}: one run, with its records and report. */
@Command(name = "train",
        sortOptions = false,
        description = {
            "Train one run spec and write its run directory: spec.json, metrics.jsonl, summary.json, checkpoints/, "
                    + "report.md with plots.",
            "",
            "Data paths in the spec are relative to the working directory. --resume continues from the latest "
                    + "checkpoint and writes exactly what an uninterrupted run would."
        })
final class TrainCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Parameters(index = "0", paramLabel = "SPEC.json", description = "The run spec.")
    Path specFile;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The run directory.")
    Path out;

    @Option(names = "--engine", defaultValue = "sim", paramLabel = "ENGINE",
            description = "The engine: ${COMPLETION-CANDIDATES}. Default: ${DEFAULT-VALUE}.")
    Engines.Kind engine;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
            description = "Threads the engine computes on (default: all cores).")
    int threads;

    @Option(names = "--resume", description = "Continue the run in DIR from its latest checkpoint.")
    boolean resume;

    @Override
    public Integer call() throws Exception {
        RunPlan plan = RunPlan.load(specFile);
        DataSources data;
        try {
            data = Engines.dataProvider().open(plan);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), e);
        }
        int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        RunSummary summary;
        try (Engine e = engine.factory().create(plan, t);
             ProgressBar bar = Progress.bar("train " + plan.spec().name(), plan.totalSteps())) {
            summary = new TrainingLoop(plan, e, data, out, new TrainingLoop.Listener() {
                @Override
                public void onStep(StepRecord r, long total) {
                    bar.stepTo(r.step());
                    if (r.loss() != null) bar.setExtraMessage(String.format(Locale.ROOT, " loss %.3f", r.loss()));
                }
            }).run(resume);
        } catch (IllegalStateException e) {
            throw new CliException(e.getMessage(), e);
        }
        Path report = RunReport.write(out);
        PrintWriter o = spec.commandLine().getOut();
        o.println(plan.spec().name() + ": " + Progress.describe(summary));
        o.println("report: " + report);
        return 0;
    }
}
