package dev.cpt.cli;

import dev.cpt.plan.RunPlan;
import dev.cpt.plan.Stage;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cpt schedule SPEC.json}: the learning rate and weight decay of every optimizer step of a
 * run, as CSV on stdout, computed from the spec alone (no data files are read).
 */
@Command(name = "schedule",
        abbreviateSynopsis = true,
        description = {
            "Print a run's learning rate and weight decay at every step as CSV.",
            "",
            "Columns: step,stage,lr,weight_decay. Steps are global and 0-based (step t is the run's t-th "
                    + "optimizer update); values are printed in full precision (they read back to the same "
                    + "doubles). Reads no data files."
        })
final class ScheduleCommand implements Callable<Integer> {

    static final String HEADER = "step,stage,lr,weight_decay";

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Parameters(index = "0", paramLabel = "SPEC.json", description = "The run spec.")
    Path specFile;

    @Option(names = "--at", split = ",", paramLabel = "STEP",
            description = "Print only these global steps, e.g. --at 0,50,999 (each in 0..steps-1).")
    List<Long> at;

    @Option(names = "--png", paramLabel = "FILE",
            description = "Also draw the learning rate and weight decay against the step into this PNG file "
                    + "(stage boundaries marked; long runs are downsampled for the plot only).")
    Path png;

    @Override
    public Integer call() {
        RunPlan plan = RunPlan.load(specFile);
        long total = plan.totalSteps();
        if (at != null) {
            for (long step : at) {
                if (step < 0 || step >= total) {
                    throw new ParameterException(spec.commandLine(), "--at " + step + " is out of range: " + specFile
                            + " has " + total + " steps, numbered 0 to " + (total - 1));
                }
            }
        }
        // The plot first: if it cannot be written, nothing goes to stdout.
        if (png != null) ScheduleChart.write(plan, png);

        PrintWriter out = spec.commandLine().getOut();
        out.print(HEADER);
        out.print('\n');
        Rows rows = new Rows(plan, out);
        if (at != null) {
            for (long step : at) rows.write(step);
        } else {
            for (long step = 0; step < total; step++) {
                rows.write(step);
                // A reader that went away (cpt schedule … | head): stop instead of computing the rest.
                if ((step & 0x3fff) == 0x3fff && out.checkError()) break;
            }
        }
        out.flush();
        return 0;
    }

    /** Writes CSV rows through one reused buffer; stage names are quoted once. */
    private static final class Rows {
        private final RunPlan plan;
        private final PrintWriter out;
        private final String[] stageFields;
        private final StringBuilder line = new StringBuilder(96);

        Rows(RunPlan plan, PrintWriter out) {
            this.plan = plan;
            this.out = out;
            List<Stage> stages = plan.stages();
            this.stageFields = new String[stages.size()];
            for (int i = 0; i < stages.size(); i++) stageFields[i] = csvField(stages.get(i).name());
        }

        void write(long step) {
            line.setLength(0);
            // StringBuilder.append(double) is Double.toString: the shortest decimal that reads back exactly.
            line.append(step).append(',')
                .append(stageFields[plan.stageAt(step).index()]).append(',')
                .append(plan.lrAt(step)).append(',')
                .append(plan.weightDecayAt(step)).append('\n');
            out.append(line);
        }
    }

    /** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
    static String csvField(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) return s;
        return '"' + s.replace("\"", "\"\"") + '"';
    }
}
