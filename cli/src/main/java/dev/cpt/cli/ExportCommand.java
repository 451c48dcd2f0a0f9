package dev.cpt.cli;

import dev.cpt.hf.HfModel;
import dev.cpt.hf.ModelInit;
import dev.cpt.hf.SafetensorsFiles;
import dev.cpt.hf.Tensor;
import dev.cpt.spec.ModelSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cpt export MODEL --format hf --out DIR}: a model as a Hugging Face model directory. */
@Command(name = "export",
        abbreviateSynopsis = true,
        description = {
            "Write a model as a Hugging Face model directory that transformers loads with no custom code.",
            "",
            "MODEL is a run directory (its latest checkpoint), one of its checkpoints (DIR/checkpoints/step-N), "
                    + "or hf:DIR. DIR gets config.json, model.safetensors (shards and model.safetensors.index.json above "
                    + "--max-shard-bytes) and the model's tokenizer.json when one is known (an hf: model's own, or that of the "
                    + "hf: model a run started from). DIR must not exist; it appears whole or not at all."
        })
final class ExportCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Parameters(index = "0", paramLabel = "MODEL", description = "A run directory, a checkpoint directory, run:DIR or hf:DIR.")
    String model;

    @Option(names = "--format", required = true, paramLabel = "FORMAT", description = "The format to write: hf (Hugging Face).")
    String format;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The directory to create.")
    Path out;

    @Option(names = "--max-shard-bytes", paramLabel = "N", defaultValue = "" + SafetensorsFiles.DEFAULT_MAX_SHARD_BYTES,
            description = "Shard the weights above this many bytes per file (default ${DEFAULT-VALUE}, transformers' 5GB).")
    long maxShardBytes;

    @Override
    public Integer call() {
        if (!"hf".equals(format)) throw new CliException("--format must be hf, not \"" + format + "\"");
        if (maxShardBytes <= 0) throw new CliException("--max-shard-bytes must be positive, not " + maxShardBytes);
        ModelInit source;
        try {
            source = ModelInit.parse(model.startsWith("hf:") || model.startsWith("run:") ? model : "run:" + model);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        try {
            ModelSpec.Shape shape = source.shape();
            // A torch engine checkpoint (torch.pt or shards) is read by the torch engine itself.
            Map<String, Tensor> tensors = source.torchEngineDir().isPresent()
                    ? dev.cpt.trainer.TorchEngine.checkpointTensors(source) : source.weights();
            Optional<Path> tokenizer = source.tokenizer();
            HfModel.write(out, shape, source.settings(), tensors, tokenizer.orElse(null), maxShardBytes);
            PrintWriter o = spec.commandLine().getOut();
            o.println(out + ": " + HfModel.forCptArch(shape.arch()).className() + " (" + shape.layers() + " layers, d " + shape.dModel()
                    + ", " + shape.heads() + " heads, context " + shape.contextLength() + ", vocabulary " + shape.vocabSize() + ") from "
                    + source + (tokenizer.isPresent() ? ", with " + tokenizer.get() : ", no tokenizer.json known"));
            o.flush();
        } catch (IOException | IllegalArgumentException e) {
            throw new CliException(e.getMessage(), e);
        }
        return 0;
    }
}
