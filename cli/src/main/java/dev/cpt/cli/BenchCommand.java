package dev.cpt.cli;

import dev.cpt.sim.SimBench;
import dev.cpt.spec.ModelSpec;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cpt bench}: the simulator's training speed as one JSON line. */
@Command(name = "bench",
        sortOptions = false,
        description = {
            "Time the simulator training a model preset on random tokens (after a warm-up) and print one JSON line: "
                    + "tokens/s, ms/step, GFLOP/s (6N + 12·L·H·Q·T FLOPs per token).",
            "",
            "Compare with simulator/src/test/python/bench_torch.py, the identical model in PyTorch on the same threads."
        })
final class BenchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Option(names = "--model", defaultValue = "toy-s", description = "A preset. Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--batch", defaultValue = "16", paramLabel = "B[xT]",
            description = "Sequences per step, optionally x sequence length (default: the model's context). Default: ${DEFAULT-VALUE}.")
    String batch;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N", description = "Threads (default: all cores).")
    int threads;

    @Option(names = "--seconds", defaultValue = "20", paramLabel = "S", description = "Timed seconds. Default: ${DEFAULT-VALUE}.")
    double seconds;

    @Override
    public Integer call() {
        ModelSpec.Shape shape = ModelSpec.PRESETS.get(model);
        if (shape == null || !shape.arch().equals("gpt2")) {
            throw new CliException("--model " + model + ": the simulator runs the gpt2 presets toy-xs, toy-s, toy-m");
        }
        String[] parts = batch.split("x");
        int sequences, seqLen;
        try {
            sequences = Integer.parseInt(parts[0]);
            seqLen = parts.length > 1 ? Integer.parseInt(parts[1]) : shape.contextLength();
        } catch (NumberFormatException e) {
            throw new CliException("--batch " + batch + " is not B or BxT", e);
        }
        if (parts.length > 2 || sequences < 1 || seqLen < 1 || seqLen > shape.contextLength()) {
            throw new CliException("--batch " + batch + ": need B ≥ 1 and 1 ≤ T ≤ the model's context " + shape.contextLength());
        }
        if (!(seconds > 0)) throw new CliException("--seconds must be positive");
        int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        spec.commandLine().getOut().println(SimBench.run(model, sequences, seqLen, t, seconds).toJson());
        return 0;
    }
}
