package dev.cpt.hf;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cpt.record.CheckpointManifest;
import dev.cpt.record.Json;
import dev.cpt.record.RunDirectory;
import dev.cpt.spec.ModelSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Where a model's starting weights come from ({@code model.init}, and what {@code cpt export}
 * reads): {@code hf:DIR}, a Hugging Face model directory, or {@code run:DIR}, a cpt run (its latest
 * checkpoint) or one of its checkpoints ({@code run:DIR/checkpoints/step-N}). Either way the model's
 * shape comes from the source itself, and the tensors arrive in cpt's names and layout.
 */
public record ModelInit(Kind kind, Path dir) {

    public enum Kind { HF, RUN }

    /** The simulator's weights file inside a checkpoint's {@code engine/} directory. */
    public static final String CPT_WEIGHTS = "model.safetensors";
    /** How the two forms are written, for messages. */
    public static final String FORMS = "\"hf:DIR\" (a Hugging Face model directory) or \"run:DIR\" / \"run:DIR/checkpoints/step-N\" (a cpt run or checkpoint)";

    /** Reads {@code hf:DIR} or {@code run:DIR}; anything else is an IllegalArgumentException saying the forms. */
    public static ModelInit parse(String text) {
        if (text.startsWith("hf:") && text.length() > 3) return new ModelInit(Kind.HF, Path.of(text.substring(3)));
        if (text.startsWith("run:") && text.length() > 4) return new ModelInit(Kind.RUN, Path.of(text.substring(4)));
        throw new IllegalArgumentException("\"" + text + "\" is neither of " + FORMS);
    }

    @Override
    public String toString() {
        return (kind == Kind.HF ? "hf:" : "run:") + dir;
    }

    /**
     * The model's shape, read from config.json, the checkpoint's weights header, or (a torch engine
     * checkpoint, whose weights Java does not read) the run's spec.json; no tensor is read.
     */
    public ModelSpec.Shape shape() throws IOException {
        if (kind == Kind.HF) return HfModel.describe(dir).shape();
        if (torchEngineDir().isPresent()) return runSpec().model().shape();
        return cptShape(weightsFile());
    }

    /**
     * What the model computes beyond its shape: config.json's settings for {@code hf:}; for a
     * {@code run:}, those of the init the run started from (a run keeps its model's settings), or
     * the architecture's defaults when it started from scratch.
     */
    public ArchSettings settings() throws IOException {
        if (kind == Kind.HF) return HfModel.describe(dir).settings();
        Path spec = runDir().resolve("spec.json");
        if (Files.isRegularFile(spec)) {
            JsonNode init = Json.MAPPER.readTree(spec.toFile()).path("model").path("init");
            if (init.isTextual()) {
                ModelInit from = parse(init.asText());
                if (!from.dir.toAbsolutePath().normalize().equals(dir.toAbsolutePath().normalize())) return from.settings();
            }
        }
        return ArchSettings.defaults(shape().arch());
    }

    /**
     * A {@code run:} source written by the torch engine: its checkpoint's {@code engine/} directory
     * (torch.pt, or one shard a rank), which only the torch engine reads; empty for anything else.
     */
    public Optional<Path> torchEngineDir() throws IOException {
        if (kind != Kind.RUN) return Optional.empty();
        Path engine = checkpointDir().resolve("engine");
        if (Files.isRegularFile(engine.resolve("torch.pt"))) return Optional.of(engine);
        if (Files.isDirectory(engine)) {
            try (var files = Files.list(engine)) {
                if (files.anyMatch(f -> f.getFileName().toString().matches("torch-rank-\\d{5}-of-\\d{5}\\.pt"))) return Optional.of(engine);
            }
        }
        return Optional.empty();
    }

    /** The spec of a {@code run:} source's run. */
    private dev.cpt.spec.RunSpec runSpec() throws IOException {
        Path spec = runDir().resolve("spec.json");
        if (!Files.isRegularFile(spec)) throw new IOException(runDir() + ": has no spec.json (the run's spec gives its model's shape)");
        try {
            return dev.cpt.spec.SpecReader.readStored(spec);
        } catch (RuntimeException e) {
            throw new IOException(spec + ": " + e.getMessage(), e);
        }
    }

    /** The model's tensors in cpt's names and layout, checked against its shape. */
    public Map<String, Tensor> weights() throws IOException {
        if (kind == Kind.HF) return HfModel.read(dir).tensors();
        if (torchEngineDir().isPresent()) {
            throw new IOException(checkpointDir() + ": is a torch engine checkpoint; its weights are read by the torch engine "
                    + "(cpt export and model.init with engine torch do)");
        }
        verify();
        Path file = weightsFile();
        ModelSpec.Shape shape = cptShape(file);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : SafetensorsFiles.header(file).entrySet()) out.put(e.getKey(), e.getValue().read());
        // The check export and import share: every tensor of the shape, each with its shape.
        HfModel.forCptArch(shape.arch()).toHf(out, shape, ArchSettings.defaults(shape.arch()));
        return out;
    }

    /**
     * The tokenizer.json that goes with the model: the directory's own; for a run, the one of its
     * own init, else the one its training data records (data prepared with {@code --tokenizer
     * hf:PATH}, found as cpt train found it, from the working directory).
     */
    public Optional<Path> tokenizer() throws IOException {
        if (kind == Kind.HF) return HfModel.tokenizer(dir);
        Path spec = runDir().resolve("spec.json");
        if (!Files.isRegularFile(spec)) return Optional.empty();
        JsonNode root = Json.MAPPER.readTree(spec.toFile());
        JsonNode init = root.path("model").path("init");
        if (init.isTextual()) {
            ModelInit from = parse(init.asText());
            Optional<Path> fromInit = from.dir.equals(dir) ? Optional.empty() : from.tokenizer();
            if (fromInit.isPresent()) return fromInit;
        }
        return dataTokenizer(root.path("datasets"));
    }

    /** The hf: tokenizer.json the first training file (by dataset name) records, if it records one and it is there. */
    private static Optional<Path> dataTokenizer(JsonNode datasets) {
        for (String name : new java.util.TreeSet<>(iterable(datasets.fieldNames()))) {
            JsonNode train = datasets.path(name).path("train");
            if (!train.isTextual() || train.asText().contains("{domain}")) continue;
            try {
                String id = dev.cpt.data.shard.Shards.open(Path.of(train.asText()), null).tokenizer().id();
                if (!id.startsWith("hf:")) return Optional.empty();
                String path = id.substring(3);
                int eot = path.lastIndexOf("#eot=");
                Path file = dev.cpt.data.tokenize.Tokenizers.tokenizerFile(eot < 0 ? path : path.substring(0, eot));
                return Files.isRegularFile(file) ? Optional.of(file) : Optional.empty();
            } catch (RuntimeException notThere) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    private static java.util.List<String> iterable(java.util.Iterator<String> it) {
        java.util.List<String> out = new java.util.ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    /** The run directory of a {@code run:} source (the directory itself, or the run a checkpoint is in). */
    private Path runDir() {
        if (Files.isRegularFile(dir.resolve("loop.json")) && dir.toAbsolutePath().getParent() != null
                && dir.toAbsolutePath().getParent().getParent() != null) {
            return dir.toAbsolutePath().getParent().getParent();
        }
        return dir;
    }

    /** A {@code run:} source's weights: the checkpoint's, or the run's latest checkpoint's. */
    public Path weightsFile() throws IOException {
        Path checkpoint = checkpointDir();
        Path engine = checkpoint.resolve("engine");
        Path file = engine.resolve(CPT_WEIGHTS);
        if (!Files.isRegularFile(file)) {
            if (Files.isRegularFile(engine.resolve("torch.pt"))) {
                throw new IOException(checkpoint + ": is a torch engine checkpoint (torch.pt); only the torch engine reads it");
            }
            throw new IOException(checkpoint + ": has no engine/" + CPT_WEIGHTS);
        }
        return file;
    }

    /** A {@code run:} source's checkpoint directory: the checkpoint itself, or the run's latest. */
    public Path checkpointDir() throws IOException {
        if (kind != Kind.RUN) throw new IllegalStateException("hf: models have no cpt checkpoint");
        Path checkpoint;
        if (Files.isRegularFile(dir.resolve("loop.json"))) {
            checkpoint = dir;
        } else if (Files.isRegularFile(dir.resolve("spec.json"))) {
            checkpoint = RunDirectory.existing(dir).latestCheckpoint()
                    .orElseThrow(() -> new IOException(dir + ": the run has no checkpoint yet")).dir();
        } else if (Files.isDirectory(dir)) {
            throw new IOException(dir + ": is neither a cpt run (spec.json) nor one of its checkpoints (loop.json)");
        } else {
            throw new IOException(dir + ": no such directory");
        }
        return checkpoint;
    }

    /**
     * Checks a {@code run:} source's checkpoint against its manifest, naming a damaged file; called
     * once by whatever reads its weights (locating it, its shape and its settings read no weights).
     */
    public void verify() throws IOException {
        if (kind == Kind.RUN) CheckpointManifest.verify(checkpointDir());
    }

    /** The shape a cpt weights file's metadata records (GptWeights writes it). */
    static ModelSpec.Shape cptShape(Path file) throws IOException {
        Map<String, String> meta = SafetensorsFiles.metadata(file);
        String arch = meta.get("arch");
        if (arch == null) throw new IOException(file + ": its metadata does not record the model's shape (arch, layers, ...)");
        return new ModelSpec.Shape(arch, field(meta, file, "layers"), field(meta, file, "dModel"), field(meta, file, "heads"),
                field(meta, file, "contextLength"), field(meta, file, "vocabSize"));
    }

    private static int field(Map<String, String> meta, Path file, String key) throws IOException {
        String v = meta.get(key);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IOException(file + ": metadata " + key + " is " + (v == null ? "missing" : "\"" + v + "\"") + ", not a whole number");
        }
    }
}
