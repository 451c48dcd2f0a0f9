package dev.cpt.cli;

import dev.cpt.data.DataOpener;
import dev.cpt.data.DataSources;
import dev.cpt.sim.SimEngine;
import dev.cpt.trainer.TorchEngine;
import dev.cpt.sweep.DataProvider;
import dev.cpt.train.EngineFactory;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** The engines the CLI can build, and data opened for them. */
final class Engines {
    private Engines() {}

    /** The engines by name ({@code --engine}); the torch engine joins when it is built. */
    enum Kind {
        sim, torch;

        /** The engine; the torch engine on {@code device} at {@code precision} (the simulator has one of each). */
        EngineFactory factory(TorchEngine.Device device, TorchEngine.Precision precision) {
            return factory(device, precision, false);
        }

        /** As above; {@code activationCheckpointing} is the torch engine's (recompute each block in the backward). */
        EngineFactory factory(TorchEngine.Device device, TorchEngine.Precision precision, boolean activationCheckpointing) {
            return factory(device, precision, activationCheckpointing, TorchEngine.Kernels.AUTO);
        }

        /** As above; {@code kernels} says which code runs the torch engine's memory-bound ops. */
        EngineFactory factory(TorchEngine.Device device, TorchEngine.Precision precision, boolean activationCheckpointing,
                              TorchEngine.Kernels kernels) {
            return switch (this) {
                case sim -> {
                    if (device != TorchEngine.Device.CPU || precision != TorchEngine.Precision.FP32 || activationCheckpointing
                            || kernels != TorchEngine.Kernels.AUTO) {
                        throw new CliException("--device, --precision, --activation-checkpointing and --kernels are the torch engine's "
                                + "(--engine torch); the simulator runs fp32 on the CPU");
                    }
                    yield (plan, threads) -> SimEngine.create(plan.spec(), threads);
                }
                case torch -> (plan, threads) -> TorchEngine.create(plan,
                        new TorchEngine.Options(device, precision, activationCheckpointing, kernels, threads));
            };
        }

        EngineFactory factory() {
            return factory(TorchEngine.Device.CPU, TorchEngine.Precision.FP32);
        }
    }

    /** {@code --device}: cpu or cuda. */
    static TorchEngine.Device device(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "cpu" -> TorchEngine.Device.CPU;
            case "cuda" -> TorchEngine.Device.CUDA;
            default -> throw new CliException("--device must be cpu or cuda, not \"" + name + "\"");
        };
    }

    /** {@code --kernels}: auto, fused or eager. */
    static TorchEngine.Kernels kernels(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "auto" -> TorchEngine.Kernels.AUTO;
            case "fused" -> TorchEngine.Kernels.FUSED;
            case "eager" -> TorchEngine.Kernels.EAGER;
            default -> throw new CliException("--kernels must be auto, fused or eager, not \"" + name + "\"");
        };
    }

    /** The help text of {@code --kernels}, shared by train and bench. */
    static final String KERNELS_HELP = "torch: which code runs the memory-bound ops (cross-entropy, LayerNorms, rotary, residual adds): "
            + "fused (cpt's CUDA kernels under bf16; their formulas as tensor ops on the CPU), eager (libtorch's ops one by one), "
            + "or auto (fused where the kernels run: CUDA, bf16, a shim built with nvcc). Default: ${DEFAULT-VALUE}.";

    /** {@code --precision}: fp32 or bf16. */
    static TorchEngine.Precision precision(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "fp32" -> TorchEngine.Precision.FP32;
            case "bf16" -> TorchEngine.Precision.BF16;
            default -> throw new CliException("--precision must be fp32 or bf16, not \"" + name + "\"");
        };
    }

    /**
     * Opens a run's data with relative paths against the working directory; variants of a sweep
     * that name the same files share one opening (the files are memory-mapped, not copied).
     */
    static DataProvider dataProvider() {
        return dataProvider(Path.of(""));
    }

    /** As {@link #dataProvider()}, with relative paths against {@code base}. */
    static DataProvider dataProvider(Path base) {
        Map<String, DataSources> opened = new HashMap<>();
        Path cwd = base.toAbsolutePath();
        return plan -> {
            try {
                String key = dev.cpt.record.Json.MAPPER.writeValueAsString(plan.spec().datasets()) + "|" + plan.spec().model().shape().vocabSize();
                return opened.computeIfAbsent(key, k -> DataOpener.open(plan.spec(), cwd));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        };
    }
}
