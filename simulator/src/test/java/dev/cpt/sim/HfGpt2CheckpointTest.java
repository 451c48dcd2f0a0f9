package dev.cpt.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cpt.data.Batch;
import dev.cpt.data.DataSources;
import dev.cpt.hf.HfModel;
import dev.cpt.hf.ModelInit;
import dev.cpt.hf.SafetensorsFiles;
import dev.cpt.hf.Tensor;
import dev.cpt.plan.RunPlan;
import dev.cpt.record.MetricsLog;
import dev.cpt.record.StepRecord;
import dev.cpt.spec.ModelSpec;
import dev.cpt.spec.OptimizerSpec;
import dev.cpt.spec.SpecException;
import dev.cpt.spec.SpecReader;
import dev.cpt.train.Engine;
import dev.cpt.train.TrainingLoop;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hugging Face GPT-2 checkpoints in and out on the simulator: logits of checkpoints that
 * {@code hf_gpt2_checkpoint.py} writes in transformers' layout (F32, BF16, F16, sharded, with and
 * without the {@code transformer.} prefix) against that script's own PyTorch GPT-2; export then
 * import is the identity; each malformed checkpoint is named; training starts from {@code hf:} and
 * {@code run:} inits and resumes from its own checkpoints; greedy generation with the KV cache is the
 * script's own argmax continuation.
 */
class HfGpt2CheckpointTest {
    static final ModelSpec.Shape SMALL = new ModelSpec.Shape("gpt2", 2, 32, 4, 24, 64);
    static boolean torchAvailable;

    @TempDir
    Path tmp;

    @BeforeAll
    static void findTorch() throws Exception {
        torchAvailable = Files.isExecutable(Path.of(TorchParityTest.PYTHON))
                && TorchParityTest.run(List.of(TorchParityTest.PYTHON, "-c", "import torch"), null).exit() == 0;
        if (!torchAvailable && "1".equals(System.getenv("CPT_CI"))) {
            throw new AssertionError("CPT_CI=1 and " + TorchParityTest.PYTHON + " cannot import torch (apt-get install -y python3-torch)");
        }
    }

    private Path script() {
        return TorchParityTest.script().resolveSibling("hf_gpt2_checkpoint.py");
    }

    /** Runs the script for one layout; returns the directory it wrote. */
    private Path written(String name, int[] tokens, String... options) throws Exception {
        assumeTrue(torchAvailable, TorchParityTest.PYTHON + " cannot import torch: apt-get install -y python3-torch");
        Path dir = tmp.resolve(name);
        StringBuilder t = new StringBuilder();
        for (int x : tokens) t.append(t.isEmpty() ? "" : ",").append(x);
        List<String> cmd = new java.util.ArrayList<>(List.of(TorchParityTest.PYTHON, script().toString(), "--out", dir.toString(),
                "--tokens", t.toString(), "--layers", "2", "--d", "32", "--heads", "4", "--ctx", "24", "--vocab", "64"));
        cmd.addAll(List.of(options));
        var r = TorchParityTest.run(cmd, null);
        assertThat(r.exit()).as("hf_gpt2_checkpoint.py failed:\n%s", r.output()).isZero();
        return dir;
    }

    private static final int[] TOKENS = {5, 17, 63, 0, 2, 2, 40, 11, 9, 33, 61, 7, 1, 28, 50, 3, 19, 44, 8, 12};

    @Test
    void logitsOfEachLayoutMatchAnIndependentTorchGpt2() throws Exception {
        String[][] layouts = {
                {"f32-hub-names"},
                {"bf16-prefixed-with-head", "--dtype", "BF16", "--prefix", "--lm-head", "--seed", "1"},
                {"f16-sharded", "--dtype", "F16", "--prefix", "--shards", "3", "--seed", "2"},
                {"f32-sharded-hub-names", "--shards", "2", "--seed", "3"}};
        for (String[] layout : layouts) {
            Path dir = written(layout[0], TOKENS, java.util.Arrays.copyOfRange(layout, 1, layout.length));
            ModelInit init = ModelInit.parse("hf:" + dir);
            assertThat(init.shape()).isEqualTo(SMALL);
            JsonNode ref = new ObjectMapper().readTree(dir.resolve("reference_logits.json").toFile()).get("logits");
            try (SimEngine e = new SimEngine(SMALL, OptimizerSpec.DEFAULT, 0, TOKENS.length, 1)) {
                e.loadWeights(init.weights(), init.toString());
                int[] row = java.util.Arrays.copyOf(TOKENS, TOKENS.length + 1);
                float[] logits = e.model().logits(row, 1, TOKENS.length);
                double worst = 0;
                for (int p = 0; p < TOKENS.length; p++) {
                    for (int v = 0; v < SMALL.vocabSize(); v++) {
                        worst = Math.max(worst, Math.abs(logits[p * SMALL.vocabSize() + v] - ref.get(p).get(v).asDouble()));
                    }
                }
                assertThat(worst).as("%s: largest logit difference", layout[0]).isLessThan(1e-4);
            }
        }
    }

    @Test
    void greedyGenerationWithTheKvCacheIsTheReferencesArgmaxContinuation() throws Exception {
        int[] prompt = {5, 17, 63, 0, 2};
        Path dir = written("generate", prompt, "--seed", "5", "--generate", "30");
        ModelInit init = ModelInit.parse("hf:" + dir);
        JsonNode ref = new ObjectMapper().readTree(dir.resolve("reference_logits.json").toFile()).get("greedy");
        int[] want = new int[ref.size()];
        for (int i = 0; i < want.length; i++) want[i] = ref.get(i).asInt();
        try (SimEngine e = new SimEngine(SMALL, OptimizerSpec.DEFAULT, 0, SMALL.contextLength(), 2)) {
            e.loadWeights(init.weights(), init.toString());
            dev.cpt.generate.Generation g = dev.cpt.generate.Generation.run(e.decoder(), prompt, 30,
                    dev.cpt.generate.TokenSampler.greedy(), SMALL.vocabSize(), -1, new java.util.SplittableRandom(0));
            // Context 24 and a prompt of 5: 20 tokens, the last drawn from position 23, in both.
            assertThat(want).hasSize(SMALL.contextLength() + 1 - prompt.length);
            assertThat(g.tokens()).containsExactly(want);
            assertThat(g.stop()).isEqualTo(dev.cpt.generate.Generation.Stop.CONTEXT_FULL);
        }
    }

    @Test
    void exportThenImportIsTheIdentityAndImportThenExportKeepsEveryTensor() throws Exception {
        Path source = written("bf16", TOKENS, "--dtype", "BF16", "--lm-head", "--seed", "4");
        HfModel.Loaded in = HfModel.read(source);
        Path out = tmp.resolve("exported");
        HfModel.write(out, in.shape(), in.tensors(), null, SafetensorsFiles.DEFAULT_MAX_SHARD_BYTES);
        assertThat(out.resolve(SafetensorsFiles.SINGLE)).isRegularFile();
        assertThat(out.resolve(SafetensorsFiles.INDEX)).doesNotExist();
        JsonNode config = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertThat(config.get("architectures").get(0).asText()).isEqualTo("GPT2LMHeadModel");
        assertThat(config.get("model_type").asText()).isEqualTo("gpt2");
        assertThat(config.get("n_layer").asInt()).isEqualTo(2);
        assertThat(config.get("n_embd").asInt()).isEqualTo(32);
        assertThat(config.get("n_positions").asInt()).isEqualTo(24);

        // Import then export: each stored tensor (hub names, bf16) is the exported one (prefixed, f32), value for value.
        Map<String, SafetensorsFiles.Entry> original = SafetensorsFiles.open(source);
        Map<String, SafetensorsFiles.Entry> exported = SafetensorsFiles.open(out);
        assertThat(exported).hasSize(2 + 12 * 2 + 2);
        for (var e : exported.entrySet()) {
            String hubName = e.getKey().substring("transformer.".length());
            assertThat(e.getValue().read().sameAs(original.get(hubName).read())).as(e.getKey()).isTrue();
        }
        // Export then import: cpt's tensors come back bit for bit, also through shards.
        Path sharded = tmp.resolve("sharded");
        HfModel.write(sharded, in.shape(), in.tensors(), null, 20_000);
        assertThat(sharded.resolve(SafetensorsFiles.INDEX)).isRegularFile();
        assertThat(sharded.resolve(SafetensorsFiles.SINGLE)).doesNotExist();
        long shards;
        try (var s = Files.list(sharded)) {
            shards = s.filter(p -> p.getFileName().toString().matches("model-\\d{5}-of-\\d{5}\\.safetensors")).count();
        }
        assertThat(shards).isGreaterThan(2);
        for (Path dir : List.of(out, sharded)) {
            HfModel.Loaded back = HfModel.read(dir);
            assertThat(back.shape()).isEqualTo(in.shape());
            assertThat(back.tensors().keySet()).containsExactlyElementsOf(in.tensors().keySet());
            in.tensors().forEach((name, t) -> assertThat(back.tensors().get(name).sameAs(t)).as("%s in %s", name, dir).isTrue());
        }
    }

    /** A model directory that cpt itself wrote from a seeded simulator model. */
    private Path exported(String name, ModelSpec.Shape shape, long seed) throws IOException {
        Path dir = tmp.resolve(name);
        try (SimEngine e = new SimEngine(shape, OptimizerSpec.DEFAULT, seed, shape.contextLength(), 1)) {
            HfModel.write(dir, shape, cptTensors(e.model()), null, SafetensorsFiles.DEFAULT_MAX_SHARD_BYTES);
        }
        return dir;
    }

    private static Map<String, Tensor> cptTensors(GptModel m) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (ParameterTensors.Tensor t : m.layout().tensors()) {
            out.put(t.name(), new Tensor(t.shape(), java.util.Arrays.copyOfRange(m.params(), t.offset(), t.offset() + t.size())));
        }
        return out;
    }

    private static void rewriteTensors(Path dir, java.util.function.Consumer<Map<String, Tensor>> change) throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (var e : SafetensorsFiles.open(dir).entrySet()) t.put(e.getKey(), e.getValue().read());
        change.accept(t);
        Files.delete(dir.resolve(SafetensorsFiles.SINGLE));
        SafetensorsFiles.write(dir, t, SafetensorsFiles.DEFAULT_MAX_SHARD_BYTES);
    }

    @Test
    void eachBrokenCheckpointIsNamed() throws IOException {
        Path missing = exported("missing", SMALL, 1);
        rewriteTensors(missing, t -> t.remove("transformer.h.1.mlp.c_fc.bias"));
        assertThatThrownBy(() -> HfModel.read(missing)).hasMessageContaining("missing tensor transformer.h.1.mlp.c_fc.bias");

        Path wrongShape = exported("wrong-shape", SMALL, 1);
        rewriteTensors(wrongShape, t -> t.put("transformer.h.0.attn.c_attn.weight", new Tensor(new int[] {96, 32}, new float[96 * 32])));
        assertThatThrownBy(() -> HfModel.read(wrongShape))
                .hasMessageContaining("tensor transformer.h.0.attn.c_attn.weight has shape [96, 32], config.json's model needs [32, 96]");

        Path truncated = exported("truncated", SMALL, 1);
        Path file = truncated.resolve(SafetensorsFiles.SINGLE);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 100);
        }
        assertThatThrownBy(() -> HfModel.read(truncated)).hasMessageContaining(file + ": is truncated: tensor transformer.ln_f.bias needs data bytes");

        Path unknown = exported("unknown", SMALL, 1);
        ObjectNode llama = (ObjectNode) new ObjectMapper().readTree(unknown.resolve("config.json").toFile());
        llama.putArray("architectures").add("LlamaForCausalLM");
        llama.put("model_type", "llama");
        Files.writeString(unknown.resolve("config.json"), llama.toString());
        assertThatThrownBy(() -> HfModel.read(unknown))
                .hasMessageContaining("unknown architecture: architectures [\"LlamaForCausalLM\"]; cpt maps GPT2LMHeadModel (gpt2)");

        Path exactGelu = exported("exact-gelu", SMALL, 1);
        ObjectNode gelu = (ObjectNode) new ObjectMapper().readTree(exactGelu.resolve("config.json").toFile());
        gelu.put("activation_function", "gelu");
        Files.writeString(exactGelu.resolve("config.json"), gelu.toString());
        assertThatThrownBy(() -> HfModel.read(exactGelu)).hasMessageContaining("activation_function \"gelu\"");

        Path pickle = exported("pickle", SMALL, 1);
        Files.delete(pickle.resolve(SafetensorsFiles.SINGLE));
        Files.write(pickle.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 2});
        assertThatThrownBy(() -> HfModel.read(pickle)).hasMessageContaining("pytorch_model.bin")
                .hasMessageContaining("convert it to safetensors");

        Path head = exported("untied", SMALL, 1);
        rewriteTensors(head, t -> t.put("lm_head.weight", new Tensor(new int[] {64, 32}, new float[64 * 32])));
        assertThatThrownBy(() -> HfModel.read(head)).hasMessageContaining("lm_head.weight differs from transformer.wte.weight");
    }

    static final ModelSpec.Shape TINY = new ModelSpec.Shape("gpt2", 1, 16, 2, 16, 32);

    private static String spec(String init, String shapeFields) {
        return TrainingLoopWithSimEngineTest.SPEC.replace(
                "\"preset\": \"toy-xs\", \"layers\": 1, \"dModel\": 16, \"heads\": 2, \"contextLength\": 16, \"vocabSize\": 32",
                "\"init\": \"" + init + "\"" + shapeFields);
    }

    @Test
    void aConfigThatDisagreesWithTheSpecIsNamedWithBothValues() throws IOException {
        Path dir = exported("tiny", TINY, 3);
        RunPlan ok = RunPlan.of(SpecReader.read(spec("hf:" + dir, ", \"layers\": 1"), "x"));
        assertThat(ok.spec().model().shape()).isEqualTo(TINY);
        assertThatThrownBy(() -> SpecReader.read(spec("hf:" + dir, ", \"layers\": 3, \"dModel\": 16"), "run.json"))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("model.layers: layers 3 disagrees with the init: hf:" + dir + " has layers 1")
                .message().doesNotContain("dModel");
        assertThatThrownBy(() -> SpecReader.read(spec("hf:" + tmp.resolve("nowhere"), ""), "run.json"))
                .hasMessageContaining("model.init: " + tmp.resolve("nowhere") + ": no such directory");
        assertThatThrownBy(() -> SpecReader.read(spec("s3:bucket", ""), "run.json"))
                .hasMessageContaining("model.init: \"s3:bucket\" is neither of \"hf:DIR\"");
    }

    @Test
    void trainingContinuesFromAnHfInitAndFromARunCheckpointAndResumesFromItsOwn() throws IOException {
        Path hf = exported("tiny", TINY, 3);
        RunPlan plan = RunPlan.of(SpecReader.read(spec("hf:" + hf, ""), "x"));
        assertThat(plan.spec().model().shape()).isEqualTo(TINY);
        DataSources data = TrainingLoopWithSimEngineTest.data();
        Path runA = tmp.resolve("a");
        float[] straight;
        double lossOfInit;
        try (SimEngine e = SimEngine.create(plan.spec(), 1);
             SimEngine fromSeed = new SimEngine(TINY, OptimizerSpec.DEFAULT, 3, 16, 1)) {
            Batch b = new Batch(4, 16);
            for (int i = 0; i < b.tokens().length; i++) b.tokens()[i] = (i * 7) % 32;
            lossOfInit = e.evalLoss(b);
            // The engine starts from the checkpoint's weights, not from the run's seed (21).
            assertThat(lossOfInit).isEqualTo(fromSeed.evalLoss(b));
            new TrainingLoop(plan, e, data, runA, null).run(false);
            straight = e.model().params().clone();
        }
        List<StepRecord> records = MetricsLog.read(runA.resolve("metrics.jsonl"));
        assertThat(records.get(23).loss()).isLessThan(records.get(0).loss() - 0.5);

        // A crash and a resume: the resumed run loads its own checkpoint (step 20), not the init.
        Path runB = tmp.resolve("b");
        try (SimEngine e = SimEngine.create(plan.spec(), 1)) {
            Engine crashing = new TrainingLoopWithSimEngineTest.Crashing(e, 27);
            assertThatThrownBy(() -> new TrainingLoop(plan, crashing, data, runB, null).run(false)).hasMessageContaining("crash");
        }
        try (SimEngine e = SimEngine.create(plan.spec(), 1)) {
            new TrainingLoop(plan, e, data, runB, null).run(true);
            assertThat(e.model().params()).isEqualTo(straight);
        }

        // run:DIR starts from the run's latest checkpoint (the end of stage 2, step 40); run:DIR/checkpoints/step-N from that one (stage 1's end).
        ModelInit latest = ModelInit.parse("run:" + runA);
        assertThat(latest.shape()).isEqualTo(TINY);
        try (SimEngine e = SimEngine.create(SpecReader.read(spec("run:" + runA, ""), "x"), 1)) {
            assertThat(e.model().params()).isEqualTo(straight);
        }
        Path stageEnd = runA.resolve("checkpoints/step-00000024");
        assertThat(stageEnd).isDirectory();
        RunPlan fromStageEnd = RunPlan.of(SpecReader.read(spec("run:" + stageEnd, ", \"vocabSize\": 32"), "x"));
        try (SimEngine e = SimEngine.create(fromStageEnd.spec(), 1)) {
            float[] want = GptWeights.readParams(stageEnd.resolve("engine/model.safetensors"), e.model().layout());
            assertThat(e.model().params()).isEqualTo(want);
            new TrainingLoop(fromStageEnd, e, data, tmp.resolve("c"), null).run(false);
        }
        assertThat(MetricsLog.read(tmp.resolve("c/metrics.jsonl"))).hasSize(41);
    }

}
