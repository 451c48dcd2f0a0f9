package dev.cpt.cli;

import dev.cpt.plan.MemoryPlan;
import dev.cpt.plan.RunPlan;
import dev.cpt.plan.Stage;
import dev.cpt.promote.Promotion;
import dev.cpt.record.Json;
import dev.cpt.spec.RunSpec;
import dev.cpt.spec.SpecReader;
import dev.cpt.sweep.SweepRunner;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cpt promote SWEEP_DIR --variant NAME --model 405m --tokens …}: a sweep's chosen run as a full-scale spec. */
@Command(name = "promote",
        sortOptions = false,
        description = {
            "Write the full-scale spec of a variant of a finished sweep: the same stages, mixtures, replay, optimizer "
                    + "resets and schedule shapes; the model, token budgets and batch from the flags; AdamW as in the paper "
                    + "(β1 0.9, β2 0.95, eps 1e-8, clip 1.0). Learning rates keep their ratio to the sweep's peak rate and "
                    + "are scaled to the model's η_max (405m: 3e-4, 10b: 1.2e-4, lbs-7b: 1.8e-4).",
            "",
            "Then: cpt plan OUT.json --gpus N, and cpt train OUT.json --engine torch --device cuda."
        })
final class PromoteCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Parameters(index = "0", paramLabel = "SWEEP_DIR", description = "A sweep's output directory (cpt sweep --out, or an experiment of cpt reproduce).")
    Path sweepDir;

    @Option(names = "--variant", required = true, paramLabel = "NAME", description = "The variant (with or without its @seed=N).")
    String variant;

    @Option(names = "--model", defaultValue = "405m", paramLabel = "PRESET", description = "405m, 10b or lbs-7b. Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--tokens", required = true, split = ",", paramLabel = "KEY=N",
            description = "Each stage's token budget, keyed by the stage's name or the one dataset it trains on, e.g. en=300e9,de=200e9.")
    Map<String, String> tokens;

    @Option(names = "--batch", defaultValue = "1104x2048", paramLabel = "SEQxLEN", description = "Sequences × tokens per step. Default: ${DEFAULT-VALUE}.")
    String batch;

    @Option(names = "--micro-batch", paramLabel = "N", description = "Sequences per forward/backward pass (default: 4 for 405m, 1 for 10b).")
    Integer microBatch;

    @Option(names = "--data", split = ",", paramLabel = "NAME=DIR", description = "A dataset's full-scale data: DIR/train.bin and DIR/val.bin.")
    Map<String, String> data = new LinkedHashMap<>();

    @Option(names = "--eval-every", defaultValue = "1000", paramLabel = "STEPS", description = "Steps between evaluations. Default: ${DEFAULT-VALUE}.")
    long evalEvery;

    @Option(names = "--gpus", paramLabel = "N",
            description = "The GPUs the run will have: the spec's parallel.zero becomes the lowest ZeRO stage whose memory (cpt plan's "
                    + "count, bf16) fits on N GPUs of --gpu-memory.")
    Integer gpus;

    @Option(names = "--gpu-memory", defaultValue = "80", paramLabel = "GiB", description = "With --gpus: memory of one GPU. Default: ${DEFAULT-VALUE} (H100).")
    double gpuMemory;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The spec to write.")
    Path out;

    @Override
    public Integer call() throws IOException {
        RunSpec source = SpecReader.readStored(findRun().resolve("spec.json"));
        String[] bl = batch.toLowerCase(Locale.ROOT).split("x");
        int sequences, seqLen;
        try {
            if (bl.length != 2) throw new NumberFormatException();
            sequences = Integer.parseInt(bl[0].trim());
            seqLen = Integer.parseInt(bl[1].trim());
        } catch (NumberFormatException e) {
            throw new CliException("--batch must be SEQUENCESxLENGTH, e.g. 1104x2048, not \"" + batch + "\"");
        }
        Map<String, Long> budgets = new LinkedHashMap<>();
        tokens.forEach((k, v) -> budgets.put(k, count("--tokens " + k, v)));
        if (evalEvery < 1) throw new CliException("--eval-every must be at least 1, not " + evalEvery);
        Promotion.Options defaults = Promotion.Options.paper(model, budgets, data);
        var options = new Promotion.Options(model, budgets, sequences, seqLen, microBatch != null ? microBatch : defaults.microBatch(),
                data, evalEvery);
        Promotion.Result r;
        try {
            r = Promotion.promote(source, options);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        String parallel = gpus == null ? null : chooseZeroStage(r);
        byte[] text = (Json.PRETTY.writeValueAsString(r.json()) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        AtomicFiles.write(out, w -> w.write(text));

        PrintWriter o = spec.commandLine().getOut();
        RunPlan plan = RunPlan.of(r.spec());
        o.printf(Locale.ROOT, "%s: %s as %s, %s × %s tokens a step (micro-batch %d)%n", out, source.name(), model,
                sequences, seqLen, r.spec().batch().microBatchSequences());
        for (Stage s : plan.stages()) {
            o.printf(Locale.ROOT, "  %-12s %,d steps, %s tokens%n", s.name(), s.steps(), PlanCommand.count(s.steps() * plan.tokensPerStep()));
        }
        o.printf(Locale.ROOT, "learning rates × %.4g (the sweep's peak %.4g → %s's η_max %.4g)%n", r.lrFactor(), r.referenceMaxLr(), model,
                Promotion.PAPER_MAX_LR.get(model));
        if (parallel != null) o.println(parallel);
        for (String n : r.notes()) o.println("note: " + n);
        o.println("next: cpt plan " + out + "   then: cpt train " + out + " --engine torch --device cuda --out DIR");
        return 0;
    }

    /**
     * Writes {@code parallel.zero} into the promoted spec: the lowest stage that fits on --gpus
     * (less sharding, less communication), or 3 with a warning when none does. Returns the line to print.
     */
    private String chooseZeroStage(Promotion.Result r) {
        if (gpus < 1) throw new CliException("--gpus must be at least 1, not " + gpus);
        if (!(gpuMemory > 0)) throw new CliException("--gpu-memory must be positive, not " + gpuMemory);
        MemoryPlan fit = null;
        int stage = 0;
        for (; stage <= 3; stage++) {
            fit = MemoryPlan.of(r.spec(), new MemoryPlan.Options(gpus, gpuMemory, MemoryPlan.Precision.BF16,
                    stage, false, true));
            if (fit.fits()) break;
        }
        int chosen = Math.min(stage, 3);
        r.json().putObject("parallel").put("zero", chosen);
        double gib = fit.totalBytes() / (double) MemoryPlan.GIB;
        if (stage <= 3) {
            return String.format(Locale.ROOT, "parallel: ZeRO-%d, the lowest stage that fits on %d GPU%s of %.0f GiB (%.2f GiB each; cpt plan)",
                    chosen, gpus, gpus == 1 ? "" : "s", gpuMemory, gib);
        }
        return String.format(Locale.ROOT, "warning: no ZeRO stage fits on %d GPU%s of %.0f GiB (ZeRO-3 needs %.2f GiB each); parallel.zero is 3 — "
                + "give more GPUs, --activation-checkpointing in cpt train, or a smaller --micro-batch", gpus, gpus == 1 ? "" : "s", gpuMemory, gib);
    }

    /** The run directory of the variant: the exact run, or its lowest seed. */
    private Path findRun() throws IOException {
        Path runs = sweepDir.resolve(SweepRunner.RUNS);
        if (!Files.isDirectory(runs)) {
            throw new CliException(sweepDir + " is not a sweep's directory (no " + SweepRunner.RUNS + "/ in it)");
        }
        Path exact = runs.resolve(variant);
        if (Files.isRegularFile(exact.resolve("spec.json"))) return exact;
        List<Path> all;
        try (Stream<Path> s = Files.list(runs)) {
            all = s.filter(p -> Files.isRegularFile(p.resolve("spec.json"))).sorted().toList();
        }
        for (Path p : all) {
            if (p.getFileName().toString().startsWith(variant + "@seed=")) return p;
        }
        TreeSet<String> known = new TreeSet<>();
        for (Path p : all) known.add(p.getFileName().toString().replaceAll("@seed=\\d+$", ""));
        throw new CliException("no variant \"" + variant + "\" in " + sweepDir + "; it has: " + String.join(", ", known));
    }

    static long count(String what, String text) {
        try {
            double v = Double.parseDouble(text.trim());
            if (!(v >= 1) || v > Long.MAX_VALUE || v != Math.rint(v)) throw new NumberFormatException();
            return (long) v;
        } catch (NumberFormatException e) {
            throw new CliException(what + " must be a whole number of tokens (e.g. 300e9), not \"" + text + "\"");
        }
    }
}
