package dev.cpt.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cpt.data.Batch;
import dev.cpt.ffi.NativeLibrary;
import dev.cpt.record.Json;
import dev.cpt.spec.ModelSpec;
import dev.cpt.spec.OptimizerSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The torch engine's neox model against the same model written as PyTorch code
 * ({@code bench/gpu/reference_neox.py}, HF GPT-NeoX's tensor names; run by Debian's python3-torch):
 * from the engine's initial weights, six steps on the same batches (two micro-batches each,
 * clipping active, decay on matrices only) give the same losses and gradient norms within 1e-4.
 * The GPU benchmark times that reference against the engine, so this is what makes the ratio a
 * comparison of one model.
 */
class NeoxReferenceTest {
    static final String PYTHON = "/usr/bin/python3";

    @TempDir
    Path tmp;

    @Test
    void sixStepsMatchThePyTorchReference() throws Exception {
        boolean ci = "1".equals(System.getenv("CPT_CI"));
        if (ci && !NativeLibrary.present()) throw new AssertionError("CPT_CI=1 and libcpt_torch.so is not built");
        assumeTrue(NativeLibrary.present(), "libcpt_torch.so is not built (native/build.sh needs libtorch-dev)");
        boolean torch = Files.isExecutable(Path.of(PYTHON)) && run(List.of(PYTHON, "-c", "import torch, numpy")).exit == 0;
        if (ci && !torch) throw new AssertionError("CPT_CI=1 and " + PYTHON + " cannot import torch and numpy (python3-torch)");
        assumeTrue(torch, PYTHON + " cannot import torch: apt-get install python3-torch (.ci/run does)");

        ModelSpec.Shape shape = new ModelSpec.Shape("neox", 2, 64, 4, 32, 256);
        int steps = 6, sequences = 4, seqLen = 24, micro = 2;
        double lr = 3e-3, wd = 0.1;
        OptimizerSpec opt = new OptimizerSpec(0.9, 0.95, 1e-8, 0.5);  // a clip below the first norms
        SplittableRandom rnd = new SplittableRandom(11);
        Batch[] batches = new Batch[steps];
        ByteBuffer tokens = ByteBuffer.allocate(steps * sequences * (seqLen + 1) * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int s = 0; s < steps; s++) {
            batches[s] = new Batch(sequences, seqLen);
            int[] t = batches[s].tokens();
            for (int i = 0; i < t.length; i++) {
                t[i] = i % 5 == 0 ? rnd.nextInt(shape.vocabSize()) : (t[i - 1] + 3) % shape.vocabSize();
                tokens.putInt(t[i]);
            }
        }
        Files.write(tmp.resolve("tokens.i32"), tokens.array());

        double[] losses = new double[steps], norms = new double[steps];
        try (TorchEngine engine = TorchEngine.of(shape, opt, 5, seqLen, micro, TorchEngine.Device.CPU, TorchEngine.Precision.FP32, 1)) {
            for (var e : engine.weights().entrySet()) {
                ByteBuffer b = ByteBuffer.allocate(e.getValue().length * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : e.getValue()) b.putFloat(v);
                Files.write(tmp.resolve(e.getKey() + ".f32"), b.array());
            }
            for (int s = 0; s < steps; s++) {
                var r = engine.trainStep(batches[s], lr, wd);
                losses[s] = r.loss();
                norms[s] = r.gradNorm();
            }
        }
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("layers", shape.layers());
        config.put("dModel", shape.dModel());
        config.put("heads", shape.heads());
        config.put("contextLength", shape.contextLength());
        config.put("vocabSize", shape.vocabSize());
        config.put("steps", steps);
        config.put("sequences", sequences);
        config.put("seqLen", seqLen);
        config.put("microBatch", micro);
        config.put("lr", lr);
        config.put("weightDecay", wd);
        config.put("beta1", opt.beta1());
        config.put("beta2", opt.beta2());
        config.put("eps", opt.eps());
        config.put("gradClip", opt.gradClip());
        Files.writeString(tmp.resolve("config.json"), Json.MAPPER.writeValueAsString(config));

        Result r = run(List.of(PYTHON, script().toString(), tmp.toString()));
        assertThat(r.exit).as(r.output).isZero();
        String line = r.output.lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElseThrow(() -> new AssertionError(r.output));
        JsonNode ref = Json.MAPPER.readTree(line);
        for (int s = 0; s < steps; s++) {
            assertThat(losses[s]).as("loss at step %d", s).isCloseTo(ref.get("losses").get(s).asDouble(), org.assertj.core.data.Offset.offset(1e-4));
            assertThat(norms[s]).as("gradient norm at step %d", s)
                    .isCloseTo(ref.get("gradNorms").get(s).asDouble(), org.assertj.core.data.Offset.offset(1e-4 * Math.max(1, norms[s])));
        }
        assertThat(norms[0]).as("clipping is exercised").isGreaterThan(opt.gradClip());
        assertThat(losses[steps - 1]).as("the model learns").isLessThan(losses[0]);
    }

    static Path script() {
        return Path.of(System.getProperty("basedir", "."), "src/test/python/neox_reference.py").toAbsolutePath();
    }

    record Result(int exit, String output) {}

    static Result run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            return new Result(-1, "timed out");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
