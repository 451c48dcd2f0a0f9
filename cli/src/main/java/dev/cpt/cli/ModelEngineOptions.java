package dev.cpt.cli;

import dev.cpt.train.Engine;
import java.io.IOException;
import picocli.CommandLine.Option;

/**
 * The options that choose what runs a model for {@code cpt eval} and {@code cpt generate}: the
 * engine, the torch engine's device and precision, and the CPU threads.
 */
final class ModelEngineOptions {
    @Option(names = "--threads", defaultValue = "0", paramLabel = "N", description = "Threads the engine computes on (default: all cores).")
    int threads;

    @Option(names = "--engine", defaultValue = "sim", paramLabel = "ENGINE",
            description = "The engine: sim (gpt2 models, fp32 on the CPU) or torch (gpt2, neox and mpt models, --device, --precision). "
                    + "Default: ${DEFAULT-VALUE}.")
    Engines.Kind engine;

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEVICE",
            description = "The torch engine's device: cpu or cuda. Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "P",
            description = "The torch engine's precision: fp32, or bf16 (autocast, on CUDA; log-probabilities and logits are taken "
                    + "in fp32). Default: ${DEFAULT-VALUE}.")
    String precision;

    /** Refuses a negative --threads, and --device or --precision with the simulator, before any work. */
    void check() {
        if (threads < 0) throw new CliException("--threads must be at least 1 (or 0 for all cores), not " + threads);
        if (engine == Engines.Kind.sim && (!"cpu".equalsIgnoreCase(device) || !"fp32".equalsIgnoreCase(precision))) {
            throw new CliException("--device and --precision are the torch engine's (--engine torch); the simulator runs fp32 on the CPU");
        }
    }

    /** The threads to compute on: --threads, or all cores for 0. */
    int threadCount() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }

    /** Refuses a model the chosen engine cannot run (the simulator runs gpt2 only), before any work. */
    void requireRunnable(ModelSource source, String command) {
        if (engine == Engines.Kind.sim) source.requireSimulatorArch(command);
    }

    /** The engine that runs {@code source}'s model for {@code command}. */
    Engine open(ModelSource source, String command) throws IOException {
        return source.engine(engine, device, precision, threadCount(), command);
    }
}
