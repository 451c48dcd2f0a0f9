package dev.cpt.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cpt.data.Batch;
import dev.cpt.ffi.NativeLibrary;
import dev.cpt.hf.ArchSettings;
import dev.cpt.hf.HfModel;
import dev.cpt.hf.ModelInit;
import dev.cpt.hf.SafetensorsFiles;
import dev.cpt.hf.Tensor;
import dev.cpt.plan.RunPlan;
import dev.cpt.record.Json;
import dev.cpt.spec.ModelSpec;
import dev.cpt.spec.RunSpec;
import dev.cpt.spec.SpecException;
import dev.cpt.spec.SpecReader;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pythia-shaped GPTNeoXForCausalLM checkpoints into the torch engine ({@code model.init: "hf:DIR"})
 * and back out: {@code hf_neox_checkpoint.py} writes each checkpoint in transformers' layout
 * (safetensors by hand, query_key_value interleaved per head, buffers) with non-default rotary_pct,
 * rotary_emb_base, residual, tying and activation, and computes the rows' losses with its own
 * float64 GPT-NeoX; the engine's per-row eval losses agree within 1e-4, and the script shows each
 * setting moves the losses by far more. Training continues from the init; import then export is
 * the identity (from the engine's tensors and from a torch checkpoint); malformed checkpoints are named.
 */
class HfNeoxCheckpointTest {
    static final String PYTHON = "/usr/bin/python3";
    static final int LAYERS = 2, D = 64, HEADS = 4, CTX = 24, VOCAB = 80;
    static final int SEQ = 16;
    // Tokens below 64: the vocabulary is padded to 80, as Pythia's 50,277 are to 50,304.
    static final int[][] ROWS = {
        {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17},
        {5, 9, 60, 2, 3, 63, 11, 9, 33, 61, 7, 1, 28, 50, 3, 19, 44},
        {40, 40, 41, 0, 12, 30, 31, 32, 8, 8, 8, 2, 59, 18, 27, 36, 45},
    };

    @TempDir
    Path tmp;

    @BeforeAll
    static void prerequisites() throws Exception {
        boolean ci = "1".equals(System.getenv("CPT_CI"));
        if (ci && !NativeLibrary.present()) throw new AssertionError("CPT_CI=1 and libcpt_torch.so is not built");
        assumeTrue(NativeLibrary.present(), "libcpt_torch.so is not built (native/build.sh needs libtorch-dev)");
        boolean torch = Files.isExecutable(Path.of(PYTHON)) && run(List.of(PYTHON, "-c", "import torch")).exit == 0;
        if (ci && !torch) throw new AssertionError("CPT_CI=1 and " + PYTHON + " cannot import torch (python3-torch)");
        assumeTrue(torch, PYTHON + " cannot import torch: apt-get install python3-torch");
    }

    record Result(int exit, String output) {}

    static Result run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(300, TimeUnit.SECONDS)) p.destroyForcibly();
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    static Path script() {
        Path p = Path.of("src/test/python/hf_neox_checkpoint.py");
        return Files.isRegularFile(p) ? p : Path.of("trainer/src/test/python/hf_neox_checkpoint.py");
    }

    /** Writes a checkpoint; returns its directory and the script's JSON (losses, alt). */
    record Written(Path dir, JsonNode reference) {}

    Written written(String name, String... options) throws Exception {
        Path dir = tmp.resolve(name);
        StringBuilder rows = new StringBuilder();
        for (int[] r : ROWS) {
            if (!rows.isEmpty()) rows.append(';');
            for (int i = 0; i < r.length; i++) rows.append(i == 0 ? "" : ",").append(r[i]);
        }
        List<String> cmd = new ArrayList<>(List.of(PYTHON, script().toString(), "--out", dir.toString(), "--rows", rows.toString(),
                "--layers", "" + LAYERS, "--d", "" + D, "--heads", "" + HEADS, "--ctx", "" + CTX, "--vocab", "" + VOCAB));
        cmd.addAll(List.of(options));
        Result r = run(cmd);
        assertThat(r.exit).as("hf_neox_checkpoint.py failed:\n%s", r.output).isZero();
        String[] lines = r.output.strip().split("\n");
        return new Written(dir, Json.MAPPER.readTree(lines[lines.length - 1]));
    }

    static String spec(String init, String shapeFields) {
        return """
            { "name": "t", "seed": 5, "model": { "init": "%s"%s },
              "batch": { "sequences": 3, "seqLen": 16, "microBatch": 3 },
              "optimizer": { "beta1": 0.9, "beta2": 0.95, "eps": 1e-8, "gradClip": 1.0 },
              "datasets": { "d": { "train": "unused.bin" } },
              "stages": [ { "name": "a", "steps": 20, "mix": { "d": 1 }, "lr": { "type": "constant", "value": 0.001 } } ] }
            """.formatted(init, shapeFields);
    }

    static TorchEngine engine(String init, TorchEngine.Kernels kernels) {
        RunSpec spec = SpecReader.read(spec(init, ""), "t");
        return TorchEngine.create(RunPlan.of(spec), new TorchEngine.Options(TorchEngine.Device.CPU, TorchEngine.Precision.FP32,
                false, kernels, 1));
    }

    static Batch row(int i) {
        Batch b = new Batch(1, SEQ);
        System.arraycopy(ROWS[i], 0, b.tokens(), 0, SEQ + 1);
        return b;
    }

    static Batch all() {
        Batch b = new Batch(ROWS.length, SEQ);
        for (int i = 0; i < ROWS.length; i++) System.arraycopy(ROWS[i], 0, b.tokens(), i * (SEQ + 1), SEQ + 1);
        return b;
    }

    /**
     * Every row's loss within 1e-4 of the reference's; and for each setting, the engine's mean loss
     * nearer the reference's than to the reference's with that setting changed (by less than half
     * the gap), so a setting read wrongly fails even where it moves the loss little (exact against
     * tanh GELU moves it by about 1e-4).
     */
    void matches(Written w, TorchEngine.Kernels kernels) {
        JsonNode ref = w.reference();
        double mean = 0;
        double engineMean = 0;
        try (TorchEngine e = engine("hf:" + w.dir(), kernels)) {
            for (int i = 0; i < ROWS.length; i++) {
                double want = ref.get("losses").get(i).asDouble();
                double got = e.evalLoss(row(i));
                mean += want / ROWS.length;
                engineMean += got / ROWS.length;
                assertThat(got).as("row %d of %s (%s)", i, w.dir().getFileName(), kernels).isCloseTo(want, org.assertj.core.data.Offset.offset(1e-4));
            }
        }
        for (var alt : (Iterable<Map.Entry<String, JsonNode>>) ref.get("alt")::fields) {
            double gap = Math.abs(alt.getValue().asDouble() - mean);
            assertThat(Math.abs(engineMean - mean)).as("%s (%s): the engine's distance from the reference, against %s changed", w.dir().getFileName(),
                    kernels, alt.getKey()).isLessThan(gap / 2);
        }
    }

    @Test
    void pythiaLayoutLossesMatchTheIndependentReference() throws Exception {
        Written pythia = written("pythia", "--rotary-pct", "0.25");
        matches(pythia, TorchEngine.Kernels.EAGER);
        // The fused ops' CPU formulas, with 4 of 16 dims rotated.
        matches(pythia, TorchEngine.Kernels.FUSED);
    }

    @Test
    void otherSettingsAreTakenFromTheConfig() throws Exception {
        matches(written("half-sequential-tied", "--rotary-pct", "0.5", "--rotary-base", "500", "--sequential", "--tied",
                "--act", "gelu_new", "--eps", "1e-6"), TorchEngine.Kernels.EAGER);
        Written bf16 = written("half-parallel-bf16", "--rotary-pct", "0.5", "--tied", "--tied-head-saved", "--dtype", "BF16", "--no-buffers");
        matches(bf16, TorchEngine.Kernels.EAGER);
        matches(bf16, TorchEngine.Kernels.FUSED);
        matches(written("sequential-fused", "--rotary-pct", "0.25", "--sequential"), TorchEngine.Kernels.FUSED);
    }

    @Test
    void trainingContinuesFromTheInit() throws Exception {
        Written w = written("train", "--rotary-pct", "0.5");
        double mean = 0;
        for (JsonNode l : w.reference().get("losses")) mean += l.asDouble() / ROWS.length;
        try (TorchEngine e = engine("hf:" + w.dir(), TorchEngine.Kernels.EAGER)) {
            double first = e.trainStep(all(), 3e-3, 0.1).loss();
            assertThat(first).as("the first step's loss is the init's").isCloseTo(mean, org.assertj.core.data.Offset.offset(1e-4));
            double last = first;
            for (int s = 0; s < 10; s++) last = e.trainStep(all(), 3e-3, 0.1).loss();
            assertThat(last).isLessThan(first - 0.5);
        }
    }

    @Test
    void importThenExportIsTheIdentity() throws Exception {
        for (String[] options : List.of(new String[] {"--rotary-pct", "0.5"}, new String[] {"--tied", "--sequential", "--act", "gelu_new"})) {
            Written w = written("in-" + options.length, options);
            HfModel.Loaded in = HfModel.read(w.dir());
            Map<String, SafetensorsFiles.Entry> original = SafetensorsFiles.open(w.dir());
            Path out = tmp.resolve("out-" + options.length);
            try (TorchEngine e = engine("hf:" + w.dir(), TorchEngine.Kernels.EAGER)) {
                assertThat(e.settings()).isEqualTo(in.settings());
                HfModel.write(out, in.shape(), e.settings(), e.tensors(), null, SafetensorsFiles.DEFAULT_MAX_SHARD_BYTES);
            }
            Map<String, SafetensorsFiles.Entry> exported = SafetensorsFiles.open(out);
            for (var entry : original.entrySet()) {
                if (entry.getKey().contains(".attention.bias") || entry.getKey().contains("masked_bias") || entry.getKey().contains("inv_freq")) {
                    continue;  // buffers: not weights, not exported
                }
                assertThat(exported).containsKey(entry.getKey());
                assertThat(exported.get(entry.getKey()).read().sameAs(entry.getValue().read())).as(entry.getKey()).isTrue();
            }
            JsonNode config = Json.MAPPER.readTree(out.resolve("config.json").toFile());
            JsonNode source = Json.MAPPER.readTree(w.dir().resolve("config.json").toFile());
            for (String f : List.of("rotary_pct", "rotary_emb_base", "use_parallel_residual", "layer_norm_eps", "tie_word_embeddings",
                    "hidden_act", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "max_position_embeddings")) {
                assertThat(config.get(f)).as(f).isEqualTo(source.get(f));
            }
            assertThat(HfModel.read(out).settings()).isEqualTo(in.settings());
        }
    }

    @Test
    void aTorchCheckpointExportsAndInitsARun() throws Exception {
        Written w = written("ck", "--rotary-pct", "0.5", "--sequential");
        Path run = tmp.resolve("run");
        Path checkpoint = run.resolve("checkpoints/step-3");
        Files.createDirectories(checkpoint.resolve("engine"));
        Files.writeString(run.resolve("spec.json"), spec("hf:" + w.dir(), ""));
        Files.writeString(checkpoint.resolve("loop.json"), "{}");
        Map<String, Tensor> trained;
        double loss;
        try (TorchEngine e = engine("hf:" + w.dir(), TorchEngine.Kernels.EAGER)) {
            for (int s = 0; s < 3; s++) e.trainStep(all(), 3e-3, 0.1);
            e.save(checkpoint.resolve("engine"));
            trained = e.tensors();
            loss = e.evalLoss(all());
        }
        ModelInit source = ModelInit.parse("run:" + checkpoint);
        assertThat(source.shape()).isEqualTo(new ModelSpec.Shape("neox", LAYERS, D, HEADS, CTX, VOCAB));
        assertThat(source.settings()).isEqualTo(HfModel.describe(w.dir()).settings());
        Map<String, Tensor> read = TorchEngine.checkpointTensors(source);
        assertThat(read.keySet()).containsExactlyElementsOf(trained.keySet());
        trained.forEach((n, t) -> assertThat(read.get(n).sameAs(t)).as(n).isTrue());
        Path out = tmp.resolve("exported");
        HfModel.write(out, source.shape(), source.settings(), read, null, SafetensorsFiles.DEFAULT_MAX_SHARD_BYTES);
        HfModel.Loaded back = HfModel.read(out);
        trained.forEach((n, t) -> assertThat(back.tensors().get(n).sameAs(t)).as(n).isTrue());
        // A new run starting from that checkpoint, and one from the export: the trained model's loss.
        try (TorchEngine fromRun = engine("run:" + checkpoint, TorchEngine.Kernels.EAGER);
             TorchEngine fromExport = engine("hf:" + out, TorchEngine.Kernels.EAGER)) {
            assertThat(fromRun.evalLoss(all())).isEqualTo(loss);
            assertThat(fromExport.evalLoss(all())).isEqualTo(loss);
        }
    }

    @Test
    void malformedCheckpointsAreNamed() throws Exception {
        Written w = written("good", "--rotary-pct", "0.25");
        Map<String, Tensor> stored = new LinkedHashMap<>();
        for (var e : SafetensorsFiles.open(w.dir()).entrySet()) {
            if (!e.getValue().dtype().equals("BOOL") && e.getValue().shape().length > 0) stored.put(e.getKey(), e.getValue().read());
        }
        // A missing tensor.
        Path missing = copyWith(w.dir(), "missing", without(stored, "gpt_neox.layers.1.attention.dense.weight"));
        assertThatThrownBy(() -> engine("hf:" + missing, TorchEngine.Kernels.EAGER))
                .hasMessageContaining("missing tensor gpt_neox.layers.1.attention.dense.weight");
        // A wrong shape.
        Map<String, Tensor> wrong = new LinkedHashMap<>(stored);
        wrong.put("gpt_neox.layers.0.mlp.dense_h_to_4h.bias", new Tensor(new int[] {3 * D}, new float[3 * D]));
        Path shaped = copyWith(w.dir(), "shape", wrong);
        assertThatThrownBy(() -> engine("hf:" + shaped, TorchEngine.Kernels.EAGER))
                .hasMessageContaining("gpt_neox.layers.0.mlp.dense_h_to_4h.bias has shape [192], config.json's model needs [256]");
        // A truncated file.
        Path cut = copyWith(w.dir(), "cut", stored);
        try (FileChannel c = FileChannel.open(cut.resolve("model.safetensors"), StandardOpenOption.WRITE)) {
            c.truncate(c.size() - 100);
        }
        assertThatThrownBy(() -> engine("hf:" + cut, TorchEngine.Kernels.EAGER)).hasMessageContaining("model.safetensors");
        // A pickle.
        Path pickle = tmp.resolve("pickle");
        Files.createDirectories(pickle);
        Files.copy(w.dir().resolve("config.json"), pickle.resolve("config.json"));
        Files.write(pickle.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 2});
        assertThatThrownBy(() -> engine("hf:" + pickle, TorchEngine.Kernels.EAGER))
                .hasMessageContaining("pytorch_model.bin").hasMessageContaining("safetensors");
        // Config fields that disagree, or that cpt cannot compute.
        assertThatThrownBy(() -> engine("hf:" + withConfig(w.dir(), "alias", c -> c.put("partial_rotary_factor", 0.5)), TorchEngine.Kernels.EAGER))
                .hasMessageContaining("rotary_pct 0.25 disagrees with partial_rotary_factor 0.5");
        assertThatThrownBy(() -> SpecReader.read(spec("hf:" + withConfig(w.dir(), "relu", c -> c.put("hidden_act", "relu")), ""), "run.json"))
                .isInstanceOf(SpecException.class).hasMessageContaining("hidden_act \"relu\"");
        assertThatThrownBy(() -> SpecReader.read(spec("hf:" + withConfig(w.dir(), "odd", c -> c.put("rotary_pct", 0.2)), ""), "run.json"))
                .hasMessageContaining("rotary_pct 0.2 of head_dim 16 rotates 3 dims");
        // An explicit shape that disagrees with config.json names both values.
        assertThatThrownBy(() -> SpecReader.read(spec("hf:" + w.dir(), ", \"layers\": 3"), "run.json"))
                .hasMessageContaining("model.layers: layers 3 disagrees with the init: hf:" + w.dir() + " has layers 2");
        assertThatThrownBy(() -> SpecReader.read(spec("hf:" + w.dir(), ", \"vocabSize\": 64"), "run.json"))
                .hasMessageContaining("vocabSize 64 disagrees with the init: hf:" + w.dir() + " has vocabSize 80");
    }

    private static Map<String, Tensor> without(Map<String, Tensor> m, String name) {
        Map<String, Tensor> out = new LinkedHashMap<>(m);
        assertThat(out.remove(name)).isNotNull();
        return out;
    }

    private Path copyWith(Path from, String name, Map<String, Tensor> tensors) throws IOException {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        Files.copy(from.resolve("config.json"), dir.resolve("config.json"));
        SafetensorsFiles.write(dir, tensors, SafetensorsFiles.DEFAULT_MAX_SHARD_BYTES);
        return dir;
    }

    private Path withConfig(Path from, String name, java.util.function.Consumer<ObjectNode> change) throws IOException {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        Files.copy(from.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        ObjectNode c = (ObjectNode) Json.MAPPER.readTree(from.resolve("config.json").toFile());
        change.accept(c);
        Files.writeString(dir.resolve("config.json"), Json.MAPPER.writeValueAsString(c));
        return dir;
    }
}
