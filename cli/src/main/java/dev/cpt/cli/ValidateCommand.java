package dev.cpt.cli;

import dev.cpt.plan.RunPlan;
import dev.cpt.plan.Share;
import dev.cpt.plan.Stage;
import dev.cpt.spec.SpecException;
import dev.cpt.sweep.SweepSpec;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cpt validate SPEC.json…}: reads, checks and plans specs; writes nothing. */
@Command(name = "validate",
        abbreviateSynopsis = true,
        description = {
            "Check run specs (or sweep specs) and summarize their stages (or runs), or list every problem.",
            "",
            "Reads, validates and plans each spec, as training would, without reading data files; writes "
                    + "nothing. Exit code 0 when every spec is fine, 1 when any has a problem."
        })
final class ValidateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Parameters(arity = "1..*", paramLabel = "SPEC.json", description = "The run specs to check.")
    List<Path> specFiles;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int failed = 0;
        for (Path file : specFiles) {
            try {
                if (isSweep(file)) {
                    SweepSpec sweep = SweepSpec.read(file);
                    out.println(file + ": ok — sweep of " + sweep.variants().size() + (sweep.variants().size() == 1 ? " run" : " runs"));
                    for (SweepSpec.Variant v : sweep.variants()) {
                        out.println("  " + v.name() + ": " + count(v.plan().totalSteps()) + " steps, "
                                + count(v.plan().totalSteps() * v.plan().tokensPerStep()) + " tokens");
                    }
                    continue;
                }
                RunPlan plan = RunPlan.load(file);
                summarize(file, plan).forEach(out::println);
            } catch (SpecException e) {
                err.println(e.getMessage());
                failed++;
            }
        }
        out.flush();
        err.flush();
        return failed == 0 ? 0 : Cpt.EXIT_FAILURE;
    }

    /** A sweep spec has a {@code base}; a run spec cannot (unknown fields are errors there). */
    private static boolean isSweep(Path file) {
        try {
            var tree = dev.cpt.spec.SpecReader.mapper().readTree(dev.cpt.spec.SpecReader.readText(file));
            return tree != null && tree.isObject() && tree.has("base");
        } catch (java.io.IOException | SpecException e) {
            return false; // the run-spec reader will say what is wrong with it
        }
    }

    /** {@code SPEC.json: ok — 2 stages, 3,906 steps, 7,999,488 tokens …} and one line per stage. */
    static List<String> summarize(Path file, RunPlan plan) {
        List<String> lines = new ArrayList<>();
        int n = plan.stages().size();
        long steps = plan.totalSteps();
        lines.add(file + ": ok — " + n + (n == 1 ? " stage, " : " stages, ") + count(steps) + (steps == 1 ? " step, " : " steps, ")
                + count(steps * plan.tokensPerStep()) + " tokens (" + count(plan.tokensPerStep()) + " per step)");
        int nameWidth = plan.stages().stream().mapToInt(s -> s.name().length()).max().orElse(0);
        int stepWidth = count(Math.max(0, steps - 1)).length();
        for (Stage s : plan.stages()) {
            StringBuilder b = new StringBuilder("  ");
            b.append(pad(s.name(), nameWidth)).append("  steps ")
             .append(padLeft(count(s.start()), stepWidth)).append('–').append(padLeft(count(s.end() - 1), stepWidth))
             .append("  ").append(shares(s));
            if (s.resetOptimizer()) b.append("; optimizer reset");
            lines.add(b.toString());
        }
        return lines;
    }

    private static String shares(Stage s) {
        List<String> parts = new ArrayList<>();
        for (Share sh : s.shares()) {
            parts.add((sh.role() == Share.Role.REPLAY ? "replay " : "") + sh.dataset() + " " + percent(sh.weight()));
        }
        return String.join(", ", parts);
    }

    private static String percent(double w) {
        double p = w * 100;
        if (Math.abs(p - Math.rint(p)) < 1e-9) return (long) Math.rint(p) + "%";
        return String.format(Locale.ROOT, "%.4g%%", p).replaceAll("0+%$", "%").replaceAll("\\.%$", "%");
    }

    private static String count(long v) {
        return String.format(Locale.ROOT, "%,d", v);
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s : s + " ".repeat(width - s.length());
    }

    private static String padLeft(String s, int width) {
        return s.length() >= width ? s : " ".repeat(width - s.length()) + s;
    }
}
