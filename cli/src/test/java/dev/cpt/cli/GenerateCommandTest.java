package dev.cpt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cpt.hf.HfModel;
import dev.cpt.hf.ModelInit;
import dev.cpt.hf.SafetensorsFiles;
import dev.cpt.sim.SimEngine;
import dev.cpt.spec.OptimizerSpec;
import dev.cpt.train.Engine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cpt generate} on a run trained here and on hf: checkpoints: greedy output is the argmax of
 * full forwards, and (given PyTorch) an independent PyTorch GPT-2's argmax continuation; a seed
 * fixes the text; bad arguments and missing models are named.
 */
class GenerateCommandTest {
    static final String PYTHON = "/usr/bin/python3";
    static final ObjectMapper JSON = new ObjectMapper();
    static final String GERMAN = "Der Hund läuft über die Wiese. Die Katze schläft auf dem Sofa. Wir trinken Kaffee am Morgen.\n";

    @TempDir
    static Path tmp;
    static Path run;

    @BeforeAll
    static void trainAToyModel() throws IOException {
        // 40 documents of 20 lines each: the end-of-text token between documents is rare in the data.
        Path text = Files.writeString(tmp.resolve("de.txt"), (GERMAN.repeat(20) + "%").repeat(40));
        Path data = tmp.resolve("data");
        CliRun p = CliRun.run("prepare", text.toString(), "--out", data.toString(), "--separator", "%", "--val", "0");
        assertThat(p.code()).as(p.err()).isZero();
        Path spec = Files.writeString(tmp.resolve("run.json"), """
            { "name": "generating", "seed": 2, "model": { "preset": "toy-xs", "contextLength": 48 }, "batch": { "sequences": 8, "seqLen": 48 },
              "datasets": { "de": { "train": "%s/train.bin", "val": "%s/train.bin" } },
              "stages": [ { "name": "train", "steps": 60, "mix": { "de": 1 },
                            "lr": { "type": "cosine", "max": 1e-2, "min": 1e-3, "warmupSteps": 5 } } ],
              "eval": { "every": 60, "batches": 1 } }
            """.formatted(data, data));
        run = tmp.resolve("run");
        CliRun t = CliRun.run("train", spec.toString(), "--out", run.toString(), "--threads", "2");
        assertThat(t.code()).as(t.err()).isZero();
    }

    static Path latestCheckpoint() throws IOException {
        try (Stream<Path> s = Files.list(run.resolve("checkpoints"))) {
            return s.filter(p -> p.getFileName().toString().startsWith("step-")).sorted().toList().getLast();
        }
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }

    @Test
    void greedyOutputIsTheArgmaxOfFullForwardsAndEveryFormOfTheModelGivesIt() throws IOException {
        CliRun r = CliRun.run("generate", run.toString(), "--prompt", "Die Katze", "--temperature", "0", "--max-tokens", "20",
                "--json", "--threads", "2");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = JSON.readTree(r.out());
        assertThat(j.get("prompt_tokens").size()).isEqualTo("Die Katze".length());
        assertThat(j.get("tokens").size()).isEqualTo(20);
        assertThat(j.get("stop").asText()).isEqualTo("max_tokens");
        assertThat(j.get("tokenizer").asText()).isEqualTo("bytes");
        assertThat(j.get("text").asText()).startsWith("Die Katze").isEqualTo("Die Katze" + j.get("continuation").asText());
        assertThat(r.err()).contains("20 tokens after a prompt of 9; stopped: --max-tokens reached; greedy");
        // Sixty steps on three sentences: the continuation is German text from them, not noise.
        assertThat(j.get("continuation").asText()).containsPattern("[a-zäöü]{3}");

        // Each drawn token is the argmax of a full (uncached) forward over the sequence before it.
        int[] all = new int[j.get("prompt_tokens").size() + j.get("tokens").size()];
        int[] prompt = ints(j.get("prompt_tokens"));
        System.arraycopy(prompt, 0, all, 0, prompt.length);
        System.arraycopy(ints(j.get("tokens")), 0, all, prompt.length, all.length - prompt.length);
        Path checkpoint = latestCheckpoint();
        var shape = ModelInit.parse("run:" + run).shape();
        try (SimEngine e = new SimEngine(shape, OptimizerSpec.DEFAULT, 0, shape.contextLength(), 2)) {
            e.load(checkpoint.resolve("engine"));
            for (int k = prompt.length; k < all.length; k++) {
                Engine.TokenScores s = e.scoreTokens(List.of(Arrays.copyOf(all, k + 1))).getFirst();
                assertThat(s.greedy()[k - 1]).as("token %d is the argmax", k).isTrue();
            }
        }

        // The same text from run:DIR, the checkpoint itself, and run:CHECKPOINT; without --json, the text alone.
        for (String model : List.of("run:" + run, checkpoint.toString(), "run:" + checkpoint)) {
            CliRun again = CliRun.run("generate", model, "--prompt", "Die Katze", "--temperature", "0", "--max-tokens", "20");
            assertThat(again.code()).as(again.err()).isZero();
            assertThat(again.out()).as(model).isEqualTo(j.get("text").asText() + System.lineSeparator());
        }
        // Exported to Hugging Face's layout, the model continues the same way (its tokenizer given: none is known).
        Path hf = tmp.resolve("exported");
        CliRun x = CliRun.run("export", run.toString(), "--format", "hf", "--out", hf.toString());
        assertThat(x.code()).as(x.err()).isZero();
        CliRun fromHf = CliRun.run("generate", "hf:" + hf, "--tokenizer", "bytes", "--prompt", "Die Katze", "--temperature", "0",
                "--max-tokens", "20");
        assertThat(fromHf.code()).as(fromHf.err()).isZero();
        assertThat(fromHf.out()).isEqualTo(j.get("text").asText() + System.lineSeparator());
    }

    @Test
    void aSeedGivesTheSameTextEveryTimeAndAnotherSeedOther() {
        List<String> texts = new ArrayList<>();
        for (String seed : List.of("7", "7", "8")) {
            CliRun r = CliRun.run("generate", run.toString(), "--prompt", "Wir ", "--temperature", "1.0", "--top-k", "40",
                    "--top-p", "0.95", "--seed", seed, "--max-tokens", "30");
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.err()).contains("seed " + seed);
            texts.add(r.out());
        }
        assertThat(texts.get(0)).startsWith("Wir ").isEqualTo(texts.get(1)).isNotEqualTo(texts.get(2));
        // Without --seed a random one is drawn, and printed so the text can be had again.
        CliRun r = CliRun.run("generate", run.toString(), "--prompt", "Wir ", "--max-tokens", "30");
        assertThat(r.code()).as(r.err()).isZero();
        String seed = r.err().replaceAll("(?s).*seed (-?\\d+).*", "$1");
        CliRun again = CliRun.run("generate", run.toString(), "--prompt", "Wir ", "--max-tokens", "30", "--seed", seed);
        assertThat(again.out()).isEqualTo(r.out());
    }

    @Test
    void theContextBoundsPromptAndContinuation() {
        // Context 48: a prompt of 40 bytes leaves 8 positions, and the token drawn from the last makes 9.
        String prompt = "Der Hund läuft über die Wiese. Die Kat";
        assertThat(prompt.getBytes(java.nio.charset.StandardCharsets.UTF_8)).hasSize(40);
        CliRun r = CliRun.run("generate", run.toString(), "--prompt", prompt, "--temperature", "0", "--max-tokens", "100", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("\"stop\":\"context_full\"");
        assertThat(r.err()).contains("9 tokens after a prompt of 40; stopped: the model's context is full (48 positions");

        CliRun tooLong = CliRun.run("generate", run.toString(), "--prompt", GERMAN, "--temperature", "0");
        assertThat(tooLong.code()).isEqualTo(1);
        assertThat(tooLong.err()).contains("the prompt is " + GERMAN.getBytes(java.nio.charset.StandardCharsets.UTF_8).length
                + " tokens (bytes), longer than the model's context of 48 tokens");

        // An empty prompt starts from the end-of-text token, which the text leaves out.
        CliRun empty = CliRun.run("generate", run.toString(), "--prompt", "", "--temperature", "0", "--max-tokens", "5", "--json");
        assertThat(empty.code()).as(empty.err()).isZero();
        assertThat(empty.out()).contains("\"prompt_tokens\":[0]");
    }

    @Test
    void badArgumentsAndMissingModelsAreNamed() throws IOException {
        String m = run.toString();
        String[][] cases = {
                {"--temperature must be a finite number ≥ 0 (0 is greedy), not -0.5", m, "--prompt", "x", "--temperature", "-0.5"},
                {"--temperature must be a finite number ≥ 0 (0 is greedy), not NaN", m, "--prompt", "x", "--temperature", "NaN"},
                {"--top-p must be in (0, 1], not 0.0", m, "--prompt", "x", "--top-p", "0"},
                {"--top-k must be at least 1 (or 0 for no top-k filter), not -3", m, "--prompt", "x", "--top-k", "-3"},
                {"--max-tokens must be at least 1, not 0", m, "--prompt", "x", "--max-tokens", "0"},
                {tmp.resolve("nowhere") + ": no such directory", tmp.resolve("nowhere").toString(), "--prompt", "x"},
                {"is neither a run directory", tmp.resolve("data").toString(), "--prompt", "x"},
                {"nowhere: no such directory", "hf:" + tmp.resolve("nowhere"), "--prompt", "x"},
                {"--tokenizer gpt2 (vocabulary 50257) is not the tokenizer the model was trained with", m, "--prompt", "x",
                        "--tokenizer", "gpt2"},
        };
        for (String[] c : cases) {
            List<String> args = new ArrayList<>(List.of("generate"));
            args.addAll(Arrays.asList(c).subList(1, c.length));
            CliRun r = CliRun.run(args.toArray(String[]::new));
            assertThat(r.code()).as(String.join(" ", args)).isEqualTo(1);
            assertThat(r.err()).as(String.join(" ", args)).contains(c[0]);
        }
        CliRun noPrompt = CliRun.run("generate", m);
        assertThat(noPrompt.code()).isEqualTo(2);
        assertThat(noPrompt.err()).contains("Missing required option: '--prompt=TEXT'");

        // An hf: directory without tokenizer.json needs --tokenizer.
        Path hf = tmp.resolve("no-tokenizer");
        try (SimEngine e = new SimEngine(ModelInit.parse("run:" + run).shape(), OptimizerSpec.DEFAULT, 1, 48, 1)) {
            var tensors = new java.util.LinkedHashMap<String, dev.cpt.hf.Tensor>();
            for (var t : e.model().layout().tensors()) {
                tensors.put(t.name(), new dev.cpt.hf.Tensor(t.shape(), Arrays.copyOfRange(e.model().params(), t.offset(), t.offset() + t.size())));
            }
            HfModel.write(hf, e.model().shape(), tensors, null, SafetensorsFiles.DEFAULT_MAX_SHARD_BYTES);
        }
        CliRun noTokenizer = CliRun.run("generate", "hf:" + hf, "--prompt", "x");
        assertThat(noTokenizer.code()).isEqualTo(1);
        assertThat(noTokenizer.err()).contains("hf:" + hf + " has no tokenizer.json; give --tokenizer");
    }

    @Test
    void greedyGenerationFromAnHfCheckpointIsAnIndependentTorchGpt2sArgmaxContinuation() throws Exception {
        boolean ci = "1".equals(System.getenv("CPT_CI"));
        boolean torch = Files.isExecutable(Path.of(PYTHON)) && EvalCommandTest.exec(List.of(PYTHON, "-c", "import torch")).exit() == 0;
        if (ci && !torch) throw new AssertionError("CPT_CI=1 and " + PYTHON + " cannot import torch (apt-get install -y python3-torch)");
        org.junit.jupiter.api.Assumptions.assumeTrue(torch, PYTHON + " cannot import torch: install Debian's python3-torch");

        String prompt = "Guten Tag";
        StringBuilder ids = new StringBuilder();
        for (byte b : prompt.getBytes(java.nio.charset.StandardCharsets.UTF_8)) ids.append(ids.isEmpty() ? "" : ",").append(b & 0xFF);
        Path dir = tmp.resolve("torch-gpt2");
        // The byte tokenizer's end-of-text token is 0: the reference stops there too, as transformers stops at eos_token_id.
        var ref = EvalCommandTest.exec(List.of(PYTHON, hfScript().toString(), "--out", dir.toString(), "--tokens", ids.toString(),
                "--layers", "2", "--d", "32", "--heads", "4", "--ctx", "32", "--vocab", "256", "--seed", "7", "--dtype", "BF16",
                "--prefix", "--generate", "40", "--eos", "0"));
        assertThat(ref.exit()).as("hf_gpt2_checkpoint.py failed:\n%s", ref.output()).isZero();
        int[] want = ints(JSON.readTree(dir.resolve("reference_logits.json").toFile()).get("greedy"));

        CliRun r = CliRun.run("generate", "hf:" + dir, "--tokenizer", "bytes", "--prompt", prompt, "--temperature", "0",
                "--max-tokens", "40", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = JSON.readTree(r.out());
        assertThat(ints(j.get("tokens"))).containsExactly(want);
        assertThat(j.get("stop").asText()).isEqualTo(want[want.length - 1] == 0 ? "end_of_text" : "context_full");
        System.out.printf("cpt generate against torch: %d greedy tokens equal (%s)%n", want.length, j.get("stop").asText());
    }

    /**
     * {@code cpt generate --engine torch}: greedy decoding on the torch engine's KV cache equals an
     * independent float64 GPT-2's and GPT-NeoX's argmax continuations (each a full forward per token).
     */
    @Test
    void greedyTorchGenerationOfHfGpt2AndNeoxIsTheIndependentArgmaxContinuation() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(EvalCommandTest.torch(), PYTHON + " cannot import torch: install Debian's python3-torch");
        boolean ci = "1".equals(System.getenv("CPT_CI"));
        if (ci && !dev.cpt.ffi.NativeLibrary.present()) throw new AssertionError("CPT_CI=1 and libcpt_torch.so is not built");
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.cpt.ffi.NativeLibrary.present(), "libcpt_torch.so is not built");
        String prompt = "Guten Tag";
        StringBuilder ids = new StringBuilder();
        for (byte b : prompt.getBytes(java.nio.charset.StandardCharsets.UTF_8)) ids.append(ids.isEmpty() ? "" : ",").append(b & 0xFF);

        Path gpt2 = tmp.resolve("torch-engine-gpt2");
        var ref = EvalCommandTest.exec(List.of(PYTHON, hfScript().toString(), "--out", gpt2.toString(), "--tokens", ids.toString(),
                "--layers", "2", "--d", "32", "--heads", "4", "--ctx", "32", "--vocab", "256", "--seed", "7", "--dtype", "BF16",
                "--prefix", "--generate", "40", "--eos", "0"));
        assertThat(ref.exit()).as("hf_gpt2_checkpoint.py failed:\n%s", ref.output()).isZero();
        int[] want = ints(JSON.readTree(gpt2.resolve("reference_logits.json").toFile()).get("greedy"));
        JsonNode j = torchGreedy("hf:" + gpt2, prompt, 40);
        assertThat(ints(j.get("tokens"))).as("gpt2 on the torch engine").containsExactly(want);
        assertThat(j.get("stop").asText()).isEqualTo(want[want.length - 1] == 0 ? "end_of_text" : "context_full");

        // GPT-NeoX: 20 tokens after the prompt's 9 (within the 32 positions); cut after an end-of-text token, where cpt stops.
        Path neox = tmp.resolve("torch-engine-neox");
        var n = EvalCommandTest.exec(List.of(PYTHON, EvalCommandTest.neoxScript().toString(), "--out", neox.toString(), "--rows",
                ids.toString(), "--layers", "2", "--d", "32", "--heads", "4", "--ctx", "32", "--vocab", "256", "--seed", "7",
                "--generate", "20"));
        assertThat(n.exit()).as("hf_neox_checkpoint.py failed:\n%s", n.output()).isZero();
        String[] lines = n.output().strip().split("\n");
        int[] all = ints(JSON.readTree(lines[lines.length - 1]).get("generated"));
        int end = 0;
        while (end < all.length && all[end] != 0) end++;
        int[] wantNeox = java.util.Arrays.copyOf(all, Math.min(all.length, end + 1));
        JsonNode k = torchGreedy("hf:" + neox, prompt, 20);
        assertThat(ints(k.get("tokens"))).as("neox on the torch engine").containsExactly(wantNeox);
        System.out.printf("cpt generate --engine torch against torch: gpt2 %d and neox %d greedy tokens equal%n", want.length, wantNeox.length);

        CliRun sim = CliRun.run("generate", "hf:" + neox, "--tokenizer", "bytes", "--prompt", prompt);
        assertThat(sim.code()).isEqualTo(1);
        assertThat(sim.err()).contains("is a neox model; the simulator (cpt generate --engine sim) runs gpt2 models only: use --engine torch");
    }

    /**
     * {@code cpt generate --engine torch} on an MPT (ALiBi) checkpoint: greedy decoding on the KV
     * cache equals hf_mpt_checkpoint.py's float64 MPT's argmax continuation, for 6 heads (MPT's
     * slopes for a head count that is not a power of two) and alibi_bias_max 6.
     */
    @Test
    void greedyTorchGenerationOfHfMptIsTheIndependentArgmaxContinuation() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(EvalCommandTest.torch(), PYTHON + " cannot import torch: install Debian's python3-torch");
        boolean ci = "1".equals(System.getenv("CPT_CI"));
        if (ci && !dev.cpt.ffi.NativeLibrary.present()) throw new AssertionError("CPT_CI=1 and libcpt_torch.so is not built");
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.cpt.ffi.NativeLibrary.present(), "libcpt_torch.so is not built");
        String prompt = "Guten Tag";
        StringBuilder ids = new StringBuilder();
        for (byte b : prompt.getBytes(java.nio.charset.StandardCharsets.UTF_8)) ids.append(ids.isEmpty() ? "" : ",").append(b & 0xFF);
        Path mpt = tmp.resolve("torch-engine-mpt");
        var m = EvalCommandTest.exec(List.of(PYTHON, mptScript().toString(), "--out", mpt.toString(), "--rows", ids.toString(),
                "--layers", "2", "--d", "48", "--heads", "6", "--ctx", "32", "--vocab", "256", "--seed", "7", "--alibi-bias-max", "6",
                "--generate", "20"));
        assertThat(m.exit()).as("hf_mpt_checkpoint.py failed:\n%s", m.output()).isZero();
        String[] lines = m.output().strip().split("\n");
        int[] all = ints(JSON.readTree(lines[lines.length - 1]).get("generated"));
        // Cut after an end-of-text token (the byte tokenizer's 0), where cpt stops.
        int end = 0;
        while (end < all.length && all[end] != 0) end++;
        int[] want = java.util.Arrays.copyOf(all, Math.min(all.length, end + 1));
        JsonNode j = torchGreedy("hf:" + mpt, prompt, 20);
        assertThat(ints(j.get("tokens"))).as("mpt on the torch engine").containsExactly(want);
        System.out.printf("cpt generate --engine torch against torch: mpt %d greedy tokens equal%n", want.length);
    }

    /** The trainer module's script that writes an MPT checkpoint in Hugging Face's layout. */
    static Path mptScript() {
        Path here = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
        for (Path d = here; d != null; d = d.getParent()) {
            Path s = d.resolve("trainer/src/test/python/hf_mpt_checkpoint.py");
            if (Files.isRegularFile(s)) return s;
        }
        throw new IllegalStateException("trainer/src/test/python/hf_mpt_checkpoint.py not found above " + here);
    }

    static JsonNode torchGreedy(String model, String prompt, int tokens) throws Exception {
        CliRun r = CliRun.run("generate", model, "--engine", "torch", "--threads", "2", "--tokenizer", "bytes", "--prompt", prompt,
                "--temperature", "0", "--max-tokens", "" + tokens, "--json");
        assertThat(r.code()).as(r.err()).isZero();
        return JSON.readTree(r.out());
    }

    /** The simulator module's script that writes a GPT-2 checkpoint in Hugging Face's layout. */
    static Path hfScript() {
        Path here = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
        for (Path d = here; d != null; d = d.getParent()) {
            Path s = d.resolve("simulator/src/test/python/hf_gpt2_checkpoint.py");
            if (Files.isRegularFile(s)) return s;
        }
        throw new IllegalStateException("simulator/src/test/python/hf_gpt2_checkpoint.py not found above " + here);
    }
}
