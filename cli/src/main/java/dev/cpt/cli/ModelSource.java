package dev.cpt.cli;

import dev.cpt.data.shard.Shards;
import dev.cpt.data.shard.TokenizerInfo;
import dev.cpt.data.tokenize.Tokenizer;
import dev.cpt.data.tokenize.Tokenizers;
import dev.cpt.hf.ArchSettings;
import dev.cpt.hf.HfModel;
import dev.cpt.hf.ModelInit;
import dev.cpt.record.CheckpointManifest;
import dev.cpt.record.Json;
import dev.cpt.record.LoopState;
import dev.cpt.record.RunDirectory;
import dev.cpt.sim.SimEngine;
import dev.cpt.spec.DatasetSpec;
import dev.cpt.spec.ModelSpec;
import dev.cpt.spec.OptimizerSpec;
import dev.cpt.spec.RunSpec;
import dev.cpt.spec.SpecReader;
import dev.cpt.train.Engine;
import dev.cpt.trainer.TorchEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.TreeMap;

/**
 * MODEL as {@code cpt eval} and {@code cpt generate} read it: a run directory (its latest complete
 * checkpoint), one of its checkpoints ({@code DIR/checkpoints/step-N}), either written
 * {@code run:…}, or {@code hf:DIR}, a Hugging Face model directory; with the model's shape, its
 * weights on the simulator or the torch engine, and its tokenizer.
 */
final class ModelSource {
    /** How MODEL may be written, for help texts and messages. */
    static final String FORMS = "a run directory (its latest checkpoint), a checkpoint DIR/checkpoints/step-N, run:DIR, or hf:DIR";

    /** A run's checkpoint: the run it belongs to, its directory and its step. */
    record Checkpoint(Path runDir, Path dir, long step) {
        Path engineDir() {
            return dir.resolve("engine");
        }
    }

    private final String text;
    /** For a run or checkpoint: which one, and the run's spec; null for hf:. */
    private final Checkpoint checkpoint;
    private final RunSpec runSpec;
    /** For hf:DIR, the directory; null otherwise. */
    private final Path hfDir;
    private final ModelSpec.Shape shape;

    private ModelSource(String text, Checkpoint checkpoint, RunSpec runSpec, Path hfDir, ModelSpec.Shape shape) {
        this.text = text;
        this.checkpoint = checkpoint;
        this.runSpec = runSpec;
        this.hfDir = hfDir;
        this.shape = shape;
    }

    /** Finds the model {@code text} names and reads its shape; a model that is not there is a CliException naming it. */
    static ModelSource open(String text) throws IOException {
        if (text.startsWith("hf:")) {
            ModelInit init;
            try {
                init = ModelInit.parse(text);
            } catch (IllegalArgumentException e) {
                throw new CliException(e.getMessage());
            }
            ModelSpec.Shape shape;
            try {
                shape = HfModel.describe(init.dir()).shape();
            } catch (IOException e) {
                throw new CliException(e.getMessage(), e);
            }
            return new ModelSource(text, null, null, init.dir(), shape);
        }
        Path path = Path.of(text.startsWith("run:") ? text.substring(4) : text);
        Checkpoint c = findCheckpoint(path);
        RunSpec spec = SpecReader.readStored(c.runDir().resolve("spec.json"));
        return new ModelSource(text, c, spec, null, spec.model().shape());
    }

    /** MODEL as a run directory (its latest complete checkpoint) or as one checkpoint of a run. */
    static Checkpoint findCheckpoint(Path model) throws IOException {
        if (Files.isRegularFile(model.resolve("spec.json"))) {
            RunDirectory run = RunDirectory.existing(model);
            RunDirectory.Checkpoint c = run.latestCheckpoint().orElseThrow(() -> new CliException(model
                    + " holds a run but no complete checkpoint yet"));
            return new Checkpoint(model, c.dir(), c.state().step());
        }
        Path loop = model.resolve("loop.json");
        Path runDir = model.toAbsolutePath().normalize().getParent() == null ? null : model.toAbsolutePath().normalize().getParent().getParent();
        if (Files.isRegularFile(loop) && runDir != null && Files.isRegularFile(runDir.resolve("spec.json"))) {
            LoopState state = Json.MAPPER.readValue(loop.toFile(), LoopState.class);
            return new Checkpoint(runDir, model, state.step());
        }
        if (!Files.exists(model)) throw new CliException(model + ": no such directory");
        throw new CliException(model + " is neither a run directory (with spec.json) nor a checkpoint of one (DIR/checkpoints/step-N with loop.json)");
    }

    ModelSpec.Shape shape() {
        return shape;
    }

    /** The run's checkpoint; empty for an hf: model. */
    Optional<Checkpoint> checkpoint() {
        return Optional.ofNullable(checkpoint);
    }

    boolean isHf() {
        return hfDir != null;
    }

    /** The shape must be one the simulator runs (gpt2); {@code command} says what refuses it. */
    void requireSimulatorArch(String command) {
        if (!"gpt2".equals(shape.arch())) {
            throw new CliException(text + " is a " + shape.arch() + " model; the simulator (" + command + " --engine sim) runs gpt2 "
                    + "models only: use --engine torch");
        }
    }

    /**
     * The engine {@code command} runs the model on: the simulator (gpt2, fp32 on the CPU) or the
     * torch engine on {@code device} at {@code precision} (--device, --precision).
     */
    Engine engine(Engines.Kind kind, String device, String precision, int threads, String command) throws IOException {
        if (kind == Engines.Kind.sim) {
            requireSimulatorArch(command);
            return simEngine(threads);
        }
        return torchEngine(new TorchEngine.Options(Engines.device(device), Engines.precision(precision), false,
                TorchEngine.Kernels.AUTO, threads));
    }

    /**
     * A torch engine holding the model's weights, computing as its config says: an hf: model's
     * tensors, or a run's checkpoint (the torch engine's own, or the simulator's weights).
     */
    TorchEngine torchEngine(TorchEngine.Options options) throws IOException {
        ModelInit init = hfDir != null ? ModelInit.parse(text) : new ModelInit(ModelInit.Kind.RUN, checkpoint.dir());
        ArchSettings settings;
        try {
            settings = init.settings();
        } catch (IOException | RuntimeException e) {
            throw new CliException(text + ": " + e.getMessage(), e);
        }
        TorchEngine engine = TorchEngine.of(shape, settings, OptimizerSpec.DEFAULT, 0, shape.contextLength(), 1, options);
        try {
            engine.initFrom(init);
        } catch (IOException | RuntimeException e) {
            engine.close();
            throw new CliException(text + ": " + e.getMessage(), e);
        }
        return engine;
    }

    /** A simulator engine holding the model's weights (a run's engine state, or an hf: model's tensors). */
    SimEngine simEngine(int threads) throws IOException {
        SimEngine engine;
        if (hfDir != null) {
            engine = new SimEngine(shape, OptimizerSpec.DEFAULT, 0, shape.contextLength(), threads);
            try {
                engine.loadWeights(HfModel.read(hfDir).tensors(), text);
            } catch (IOException | RuntimeException e) {
                engine.close();
                throw new CliException(e.getMessage(), e);
            }
            return engine;
        }
        try {
            CheckpointManifest.verify(checkpoint.dir());
        } catch (IOException damaged) {
            throw new CliException(damaged.getMessage(), damaged);
        }
        engine = new SimEngine(shape, runSpec.optimizer(), runSpec.seed(), shape.contextLength(), threads);
        try {
            engine.load(checkpoint.engineDir());
        } catch (IOException | RuntimeException e) {
            engine.close();
            throw e;
        }
        return engine;
    }

    /**
     * The model's tokenizer, checked to fit its vocabulary: {@code override} (--tokenizer) if given,
     * else for a run the tokenizer its training files record (with both, they must agree where the
     * data can be found; relative paths are read as cpt train reads them, from the working
     * directory), and for {@code hf:DIR} the directory's tokenizer.json.
     */
    Tokenizer tokenizer(String override) {
        Tokenizer tok = hfDir != null ? hfTokenizer(override) : runTokenizer(override);
        if (tok.vocabSize() > shape.vocabSize()) {
            throw new CliException("the tokenizer " + tok.id() + " has " + tok.vocabSize() + " ids, more than the model's "
                    + "vocabulary of " + shape.vocabSize());
        }
        return tok;
    }

    private Tokenizer hfTokenizer(String override) {
        String id = override;
        if (id == null) {
            Path file = HfModel.tokenizer(hfDir).orElseThrow(() -> new CliException(text + " has no " + HfModel.TOKENIZER
                    + "; give --tokenizer (" + Tokenizers.ACCEPTED + ")"));
            id = "hf:" + file;
        }
        try {
            return Tokenizers.open(id);
        } catch (IllegalArgumentException e) {
            throw new CliException((override == null ? text + "'s tokenizer: " : "--tokenizer: ") + e.getMessage());
        }
    }

    private Tokenizer runTokenizer(String override) {
        TokenizerInfo fromData = null;
        String dataFile = null;
        String missing = null;
        for (var e : new TreeMap<>(runSpec.datasets()).entrySet()) {
            DatasetSpec d = e.getValue();
            String file = d == null ? null : d.pathOf("train", d.domainWeights() == null ? "" : d.domainWeights().keySet().iterator().next());
            if (file == null) continue;
            try {
                fromData = Shards.open(Path.of(file), null).tokenizer();
                dataFile = "datasets." + e.getKey() + ".train (" + file + ")";
                break;
            } catch (RuntimeException ex) {
                missing = "datasets." + e.getKey() + ".train: " + ex.getMessage();
            }
        }
        String id = override;
        if (id == null && fromData == null) {
            // The data is not where the spec says (another working directory): the init's tokenizer.json, which
            // cpt train checked the data against, is the model's tokenizer too.
            Optional<Path> initTokenizer = initTokenizer();
            if (initTokenizer.isPresent()) {
                id = "hf:" + initTokenizer.get();
                dataFile = "model.init " + runSpec.model().init() + " (" + initTokenizer.get() + ")";
            }
        }
        if (id == null) {
            if (fromData == null) {
                throw new CliException("the tokenizer of the run's training data is unknown: " + (missing == null
                        ? "the spec names no training files" : missing + " (relative paths are read from " + Path.of("").toAbsolutePath() + ")")
                        + "; give --tokenizer (" + Tokenizers.ACCEPTED + ")");
            }
            id = fromData.id();
        }
        Tokenizer tok;
        try {
            tok = Tokenizers.open(id);
        } catch (IllegalArgumentException e) {
            throw new CliException((override == null ? "the model's tokenizer (" + dataFile + "): " : "--tokenizer: ")
                    + e.getMessage() + (override == null ? "; give --tokenizer" : ""));
        }
        if (fromData != null && !Shards.sameTokenizer(fromData, TokenizerInfo.of(tok))) {
            throw new CliException("--tokenizer " + tok.id() + " (vocabulary " + tok.vocabSize() + ") is not the tokenizer the model was "
                    + "trained with: " + dataFile + " records " + fromData.describe());
        }
        return tok;
    }

    /** The tokenizer.json of the run's model.init (an hf: directory's, or a run's init's), if it has one. */
    private Optional<Path> initTokenizer() {
        if (runSpec.model().init() == null) return Optional.empty();
        try {
            return ModelInit.parse(runSpec.model().init()).tokenizer();
        } catch (IOException | RuntimeException unreadable) {
            return Optional.empty();
        }
    }

    @Override
    public String toString() {
        return text;
    }
}
