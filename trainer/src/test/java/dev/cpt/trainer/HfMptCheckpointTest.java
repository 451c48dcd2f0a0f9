package dev.cpt.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MptForCausalLM checkpoints (MPT, SlimPajama-DC's LBS-7B) into the torch engine ({@code model.init:
 * "hf:DIR"}) and back out: {@code hf_mpt_checkpoint.py} writes each checkpoint in transformers'
 * layout (safetensors by hand, no biases, tied head) and computes the rows' losses with its own
 * float64 MPT (ALiBi with MPT's slopes); the engine's per-row eval losses agree within 1e-4 for 4
 * heads and for 6 (not a power of two: the next-power-of-two rule), and the script shows ALiBi, its
 * alibi_bias_max and the slope rule each move the losses by far more. Training continues from the
 * init; import then export is the identity; malformed checkpoints and configs are named.
 */
class HfMptCheckpointTest {
    static final String PYTHON = "/usr/bin/python3";
    static final int LAYERS = 2, D = 48, CTX = 24, VOCAB = 80;
    static final int SEQ = 16;
    static final int[][] ROWS = HfNeoxCheckpointTest.ROWS;

    @TempDir
    Path tmp;

    @BeforeAll
    static void prerequisites() throws Exception {
        HfNeoxCheckpointTest.prerequisites();
    }

    static Path script() {
        Path p = Path.of("src/test/python/hf_mpt_checkpoint.py");
        return Files.isRegularFile(p) ? p : Path.of("trainer/src/test/python/hf_mpt_checkpoint.py");
    }

    record Written(Path dir, JsonNode reference) {}

    Written written(String name, int heads, String... options) throws Exception {
        Path dir = tmp.resolve(name);
        StringBuilder rows = new StringBuilder();
        for (int[] r : ROWS) {
            if (!rows.isEmpty()) rows.append(';');
            for (int i = 0; i < r.length; i++) rows.append(i == 0 ? "" : ",").append(r[i]);
        }
        List<String> cmd = new ArrayList<>(List.of(PYTHON, script().toString(), "--out", dir.toString(), "--rows", rows.toString(),
                "--layers", "" + LAYERS, "--d", "" + D, "--heads", "" + heads, "--ctx", "" + CTX, "--vocab", "" + VOCAB));
        cmd.addAll(List.of(options));
        HfNeoxCheckpointTest.Result r = HfNeoxCheckpointTest.run(cmd);
        assertThat(r.exit()).as("hf_mpt_checkpoint.py failed:\n%s", r.output()).isZero();
        String[] lines = r.output().strip().split("\n");
        return new Written(dir, Json.MAPPER.readTree(lines[lines.length - 1]));
    }

    static TorchEngine engine(String init) {
        return engine(init, TorchEngine.Kernels.EAGER);
    }

    static TorchEngine engine(String init, TorchEngine.Kernels kernels) {
        RunSpec spec = SpecReader.read(HfNeoxCheckpointTest.spec(init, ""), "t");
        return TorchEngine.create(RunPlan.of(spec), new TorchEngine.Options(TorchEngine.Device.CPU, TorchEngine.Precision.FP32,
                false, kernels, 1));
    }

    /**
     * Every row's loss within 1e-4 of the reference's; and for each rule, the engine's mean loss
     * nearer the reference's than to the reference's with that rule changed (by less than half the
     * gap), so that a rule computed wrongly fails even where it moves the loss little.
     */
    void matches(Written w, TorchEngine.Kernels kernels) {
        JsonNode ref = w.reference();
        double mean = 0;
        double engineMean = 0;
        try (TorchEngine e = engine("hf:" + w.dir(), kernels)) {
            for (int i = 0; i < ROWS.length; i++) {
                double want = ref.get("losses").get(i).asDouble();
                double got = e.evalLoss(HfNeoxCheckpointTest.row(i));
                mean += want / ROWS.length;
                engineMean += got / ROWS.length;
                assertThat(got).as("row %d of %s (%s)", i, w.dir().getFileName(), kernels).isCloseTo(want, Offset.offset(1e-4));
            }
        }
        for (var alt : (Iterable<Map.Entry<String, JsonNode>>) ref.get("alt")::fields) {
            double gap = Math.abs(alt.getValue().asDouble() - mean);
            assertThat(Math.abs(engineMean - mean)).as("%s: the engine's distance from the reference, against %s changed", w.dir().getFileName(),
                    alt.getKey()).isLessThan(gap / 2);
        }
    }

    @Test
    void lossesMatchTheIndependentReference() throws Exception {
        Written six = written("heads-6", 6);
        assertThat(six.reference().get("alt").has("next_power_of_two_slopes")).isTrue();
        matches(six, TorchEngine.Kernels.EAGER);
        // The fused ops apply to the cross-entropy only (bias-free LayerNorms run as ATen's).
        matches(six, TorchEngine.Kernels.FUSED);
        matches(written("heads-4", 4), TorchEngine.Kernels.EAGER);
    }

    @Test
    void configSettingsAndStorageTypesAreTaken() throws Exception {
        matches(written("bias-max-4-eps", 6, "--alibi-bias-max", "4", "--eps", "1e-6"), TorchEngine.Kernels.EAGER);
        matches(written("bf16-head-saved", 4, "--dtype", "BF16", "--head-saved"), TorchEngine.Kernels.EAGER);
        matches(written("f16", 6, "--dtype", "F16", "--seed", "3"), TorchEngine.Kernels.EAGER);
    }

    @Test
    void theShapeComesFromTheConfig() throws Exception {
        Written w = written("shape", 6);
        HfModel.Described d = HfModel.describe(w.dir());
        assertThat(d.shape()).isEqualTo(new ModelSpec.Shape("mpt", LAYERS, D, 6, CTX, VOCAB));
        assertThat(d.settings()).isEqualTo(new ArchSettings(0, 0, false, 1e-5, true, true, 8));
        try (TorchEngine e = engine("hf:" + w.dir())) {
            // 12·d² + 2·d a block, d for norm_f, V·d for the tied embedding: no biases, no positions.
            long want = (long) VOCAB * D + LAYERS * (12L * D * D + 2L * D) + D;
            assertThat(e.info().parameters()).isEqualTo(want);
            assertThat(dev.cpt.plan.ModelSize.parameters(d.shape())).isEqualTo(want);
        }
    }

    @Test
    void trainingContinuesFromTheInit() throws Exception {
        Written w = written("train", 6);
        double mean = 0;
        for (JsonNode l : w.reference().get("losses")) mean += l.asDouble() / ROWS.length;
        for (boolean checkpointing : new boolean[] {false, true}) {
            RunSpec spec = SpecReader.read(HfNeoxCheckpointTest.spec("hf:" + w.dir(), ""), "t");
            try (TorchEngine e = TorchEngine.create(RunPlan.of(spec), new TorchEngine.Options(TorchEngine.Device.CPU,
                    TorchEngine.Precision.FP32, checkpointing, TorchEngine.Kernels.EAGER, 1))) {
                double first = e.trainStep(HfNeoxCheckpointTest.all(), 3e-3, 0.1).loss();
                assertThat(first).as("the first step's loss is the init's").isCloseTo(mean, Offset.offset(1e-4));
                double last = first;
                for (int s = 0; s < 10; s++) last = e.trainStep(HfNeoxCheckpointTest.all(), 3e-3, 0.1).loss();
                assertThat(last).as("checkpointing %s", checkpointing).isLessThan(first - 0.5);
            }
        }
    }

    @Test
    void importThenExportIsTheIdentity() throws Exception {
        for (String[] options : List.of(new String[] {}, new String[] {"--alibi-bias-max", "6", "--eps", "1e-6", "--head-saved"})) {
            Written w = written("in-" + options.length, 6, options);
            HfModel.Loaded in = HfModel.read(w.dir());
            Map<String, SafetensorsFiles.Entry> original = SafetensorsFiles.open(w.dir());
            Path out = tmp.resolve("out-" + options.length);
            try (TorchEngine e = engine("hf:" + w.dir())) {
                assertThat(e.settings()).isEqualTo(in.settings());
                HfModel.write(out, in.shape(), e.settings(), e.tensors(), null, SafetensorsFiles.DEFAULT_MAX_SHARD_BYTES);
            }
            Map<String, SafetensorsFiles.Entry> exported = SafetensorsFiles.open(out);
            for (var entry : original.entrySet()) {
                if (entry.getKey().equals("lm_head.weight")) {
                    assertThat(exported).doesNotContainKey("lm_head.weight");  // tied: safetensors keeps one copy, as transformers saves it
                    continue;
                }
                assertThat(exported).containsKey(entry.getKey());
                assertThat(exported.get(entry.getKey()).read().sameAs(entry.getValue().read())).as(entry.getKey()).isTrue();
            }
            assertThat(exported).hasSameSizeAs(original.keySet().stream().filter(n -> !n.equals("lm_head.weight")).toList());
            JsonNode config = Json.MAPPER.readTree(out.resolve("config.json").toFile());
            JsonNode source = Json.MAPPER.readTree(w.dir().resolve("config.json").toFile());
            for (String f : List.of("architectures", "model_type", "d_model", "n_heads", "n_layers", "max_seq_len", "vocab_size",
                    "expansion_ratio", "no_bias", "layer_norm_epsilon")) {
                assertThat(config.get(f)).as(f).isEqualTo(source.get(f));
            }
            assertThat(config.at("/attn_config/alibi_bias_max").asDouble()).isEqualTo(source.at("/attn_config/alibi_bias_max").asDouble());
            assertThat(config.at("/attn_config/alibi").asBoolean()).isTrue();
            assertThat(HfModel.read(out).settings()).isEqualTo(in.settings());
        }
    }

    @Test
    void aTorchCheckpointExportsAndInitsARun() throws Exception {
        Written w = written("ck", 6, "--alibi-bias-max", "6");
        Path run = tmp.resolve("run");
        Path checkpoint = run.resolve("checkpoints/step-3");
        Files.createDirectories(checkpoint.resolve("engine"));
        Files.writeString(run.resolve("spec.json"), HfNeoxCheckpointTest.spec("hf:" + w.dir(), ""));
        Files.writeString(checkpoint.resolve("loop.json"), "{}");
        Map<String, Tensor> trained;
        double loss;
        try (TorchEngine e = engine("hf:" + w.dir())) {
            for (int s = 0; s < 3; s++) e.trainStep(HfNeoxCheckpointTest.all(), 3e-3, 0.1);
            e.save(checkpoint.resolve("engine"));
            trained = e.tensors();
            loss = e.evalLoss(HfNeoxCheckpointTest.all());
        }
        ModelInit source = ModelInit.parse("run:" + checkpoint);
        assertThat(source.shape()).isEqualTo(new ModelSpec.Shape("mpt", LAYERS, D, 6, CTX, VOCAB));
        assertThat(source.settings()).isEqualTo(HfModel.describe(w.dir()).settings());
        Map<String, Tensor> read = TorchEngine.checkpointTensors(source);
        assertThat(read.keySet()).containsExactlyElementsOf(trained.keySet());
        trained.forEach((n, t) -> assertThat(read.get(n).sameAs(t)).as(n).isTrue());
        Path out = tmp.resolve("exported");
        HfModel.write(out, source.shape(), source.settings(), read, null, SafetensorsFiles.DEFAULT_MAX_SHARD_BYTES);
        HfModel.Loaded back = HfModel.read(out);
        trained.forEach((n, t) -> assertThat(back.tensors().get(n).sameAs(t)).as(n).isTrue());
        try (TorchEngine fromRun = engine("run:" + checkpoint);
             TorchEngine fromExport = engine("hf:" + out)) {
            assertThat(fromRun.evalLoss(HfNeoxCheckpointTest.all())).isEqualTo(loss);
            assertThat(fromExport.evalLoss(HfNeoxCheckpointTest.all())).isEqualTo(loss);
        }
        // The export read by the script's own float64 MPT (its config.json and safetensors parsed by
        // hand): the trained model's per-row losses, so what cpt writes means what MPT computes.
        HfNeoxCheckpointTest.Result r = HfNeoxCheckpointTest.run(List.of(PYTHON, script().toString(), "--read", out.toString(),
                "--rows", rowsArgument()));
        assertThat(r.exit()).as("hf_mpt_checkpoint.py --read failed:\n%s", r.output()).isZero();
        String[] lines = r.output().strip().split("\n");
        JsonNode losses = Json.MAPPER.readTree(lines[lines.length - 1]).get("losses");
        try (TorchEngine trainedEngine = engine("hf:" + out)) {
            for (int i = 0; i < ROWS.length; i++) {
                assertThat(trainedEngine.evalLoss(HfNeoxCheckpointTest.row(i))).as("exported model, row %d", i)
                        .isCloseTo(losses.get(i).asDouble(), Offset.offset(1e-4));
            }
        }
    }

    static String rowsArgument() {
        StringBuilder rows = new StringBuilder();
        for (int[] r : ROWS) {
            if (!rows.isEmpty()) rows.append(';');
            for (int i = 0; i < r.length; i++) rows.append(i == 0 ? "" : ",").append(r[i]);
        }
        return rows.toString();
    }

    @Test
    void malformedCheckpointsAndUnsupportedConfigsAreNamed() throws Exception {
        Written w = written("good", 6);
        Map<String, Tensor> stored = new LinkedHashMap<>();
        for (var e : SafetensorsFiles.open(w.dir()).entrySet()) stored.put(e.getKey(), e.getValue().read());
        Path missing = copyWith(w.dir(), "missing", without(stored, "transformer.blocks.1.ffn.down_proj.weight"));
        assertThatThrownBy(() -> engine("hf:" + missing)).hasMessageContaining("missing tensor transformer.blocks.1.ffn.down_proj.weight");
        Map<String, Tensor> wrong = new LinkedHashMap<>(stored);
        wrong.put("transformer.blocks.0.attn.Wqkv.weight", new Tensor(new int[] {2 * D, D}, new float[2 * D * D]));
        Path shaped = copyWith(w.dir(), "shape", wrong);
        assertThatThrownBy(() -> engine("hf:" + shaped))
                .hasMessageContaining("transformer.blocks.0.attn.Wqkv.weight has shape [96, 48], config.json's model needs [144, 48]");
        // A bias cpt's mpt does not have.
        Map<String, Tensor> biased = new LinkedHashMap<>(stored);
        biased.put("transformer.blocks.0.norm_1.bias", new Tensor(new int[] {D}, new float[D]));
        Path withBias = copyWith(w.dir(), "bias", biased);
        assertThatThrownBy(() -> engine("hf:" + withBias)).hasMessageContaining("transformer.blocks.0.norm_1.bias");
        // A saved head that is not the embedding.
        Map<String, Tensor> untied = new LinkedHashMap<>(stored);
        untied.put("lm_head.weight", new Tensor(new int[] {VOCAB, D}, new float[VOCAB * D]));
        Path head = copyWith(w.dir(), "head", untied);
        assertThatThrownBy(() -> engine("hf:" + head)).hasMessageContaining("lm_head.weight differs from transformer.wte.weight");
        Path cut = copyWith(w.dir(), "cut", stored);
        try (FileChannel c = FileChannel.open(cut.resolve("model.safetensors"), StandardOpenOption.WRITE)) {
            c.truncate(c.size() - 100);
        }
        assertThatThrownBy(() -> engine("hf:" + cut)).hasMessageContaining("model.safetensors");
        // What cpt's mpt does not compute, each named at its field.
        Map<String, java.util.function.Consumer<ObjectNode>> refused = new LinkedHashMap<>();
        refused.put("expansion_ratio 2", c -> c.put("expansion_ratio", 2));
        refused.put("no_bias false", c -> c.put("no_bias", false));
        refused.put("attn_config.alibi false", c -> ((ObjectNode) c.get("attn_config")).put("alibi", false));
        refused.put("attn_config.qk_ln true", c -> ((ObjectNode) c.get("attn_config")).put("qk_ln", true));
        refused.put("attn_config.clip_qkv 6", c -> ((ObjectNode) c.get("attn_config")).put("clip_qkv", 6));
        refused.put("attn_config.softmax_scale 0.5", c -> ((ObjectNode) c.get("attn_config")).put("softmax_scale", 0.5));
        refused.put("attn_config.attn_type \"grouped_query_attention\"",
                c -> ((ObjectNode) c.get("attn_config")).put("attn_type", "grouped_query_attention"));
        refused.put("attn_config.alibi_bias_max -1.0", c -> ((ObjectNode) c.get("attn_config")).put("alibi_bias_max", -1));
        refused.put("logit_scale 2", c -> c.put("logit_scale", 2));
        refused.put("norm_type \"rmsnorm\"", c -> c.put("norm_type", "rmsnorm"));
        refused.put("tie_word_embeddings false", c -> c.put("tie_word_embeddings", false));
        refused.put("lacks n_heads", c -> c.remove("n_heads"));
        int i = 0;
        for (var r : refused.entrySet()) {
            Path dir = withConfig(w.dir(), "config-" + i++, r.getValue());
            assertThatThrownBy(() -> SpecReader.read(HfNeoxCheckpointTest.spec("hf:" + dir, ""), "run.json"))
                    .as(r.getKey()).isInstanceOf(SpecException.class).hasMessageContaining(r.getKey());
        }
        assertThatThrownBy(() -> SpecReader.read(HfNeoxCheckpointTest.spec("hf:" + w.dir(), ", \"heads\": 8"), "run.json"))
                .hasMessageContaining("model.heads: heads 8 disagrees with the init: hf:" + w.dir() + " has heads 6");
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
