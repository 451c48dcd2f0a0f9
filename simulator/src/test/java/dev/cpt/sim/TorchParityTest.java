package dev.cpt.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cpt.data.Batch;
import dev.cpt.spec.ModelSpec;
import dev.cpt.spec.OptimizerSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The simulator against PyTorch ({@code src/test/python/reference_gpt.py}, run with Debian's
 * python3-torch) on the same weights and batch: the loss, every parameter's gradient, and ten AdamW
 * steps with weight decay and clipping.
 */
class TorchParityTest {
    static final String PYTHON = "/usr/bin/python3";
    static final double TOLERANCE = 1e-4;

    static boolean torchAvailable;

    @TempDir
    Path tmp;

    @BeforeAll
    static void findTorch() throws Exception {
        torchAvailable = Files.isExecutable(Path.of(PYTHON)) && run(List.of(PYTHON, "-c", "import torch"), null).exit == 0;
    }

    @Test
    void lossGradientsAndTenAdamWStepsMatchTorch() throws Exception {
        assumeTrue(torchAvailable, PYTHON + " cannot import torch: install Debian's python3-torch (apt-get install -y"
                + " python3-torch; .ci/run does) to run the PyTorch parity test");
        ModelSpec.Shape shape = new ModelSpec.Shape("gpt2", 2, 32, 4, 24, 64);
        int sequences = 3;
        int seqLen = 20;
        double lr = 3e-3;
        double wd = 0.1;
        // A clip below the initial gradient norm, so clipping is exercised.
        OptimizerSpec opt = new OptimizerSpec(0.9, 0.95, 1e-8, 0.5);
        Batch batch = new Batch(sequences, seqLen);
        Random rnd = new Random(3);
        for (int i = 0; i < batch.tokens().length; i++) batch.tokens()[i] = rnd.nextInt(shape.vocabSize());

        try (SimEngine engine = new SimEngine(shape, opt, 17, seqLen, 2)) {
            Path weights = tmp.resolve("model.safetensors");
            GptWeights.write(weights, engine.model());
            ByteBuffer buf = ByteBuffer.allocate(4 * batch.tokens().length).order(ByteOrder.LITTLE_ENDIAN);
            buf.asIntBuffer().put(batch.tokens());
            Files.write(tmp.resolve("batch.bin"), buf.array());
            Path out = Files.createDirectories(tmp.resolve("torch"));
            Result r = run(List.of(PYTHON, script().toString(), "--weights", weights.toString(),
                    "--batch", tmp.resolve("batch.bin").toString(), "--sequences", "" + sequences, "--seqlen", "" + seqLen,
                    "--lr", "" + lr, "--wd", "" + wd, "--beta1", "0.9", "--beta2", "0.95", "--eps", "1e-8",
                    "--clip", "0.5", "--steps", "10", "--out", out.toString()), null);
            assertThat(r.exit).as("reference_gpt.py failed:\n%s", r.output).isZero();
            JsonNode torch = new ObjectMapper().readTree(out.resolve("result.json").toFile());
            SafeTensors.Contents torchGrads = SafeTensors.read(out.resolve("grads.safetensors"));

            List<Double> losses = new ArrayList<>();
            List<Double> norms = new ArrayList<>();
            for (int step = 0; step < 10; step++) {
                var s = engine.trainStep(batch, lr, wd);
                losses.add(s.loss());
                norms.add(s.gradNorm());
                if (step == 0) compareGradients(engine.model(), torchGrads);
            }
            double finalLoss = engine.evalLoss(batch);
            System.out.printf("torch %s: loss %s vs %s; final %s vs %s%n", torch.get("torch").asText(), losses.get(0),
                    torch.get("loss").asDouble(), finalLoss, torch.get("finalLoss").asDouble());
            assertThat(norms.get(0)).as("the clip must act").isGreaterThan(0.5);
            for (int i = 0; i < 10; i++) {
                assertThat(relative(losses.get(i), torch.get("losses").get(i).asDouble())).as("loss at step %d", i)
                        .isLessThanOrEqualTo(TOLERANCE);
                assertThat(relative(norms.get(i), torch.get("gradNorms").get(i).asDouble())).as("grad norm at step %d", i)
                        .isLessThanOrEqualTo(TOLERANCE);
            }
            assertThat(relative(finalLoss, torch.get("finalLoss").asDouble())).as("loss after 10 steps")
                    .isLessThanOrEqualTo(TOLERANCE);
            assertThat(finalLoss).as("ten steps on one batch must lower its loss").isLessThan(losses.get(0) - 0.1);
        }
    }

    /** Per tensor, ‖simulator − torch‖ / ‖torch‖: elementwise ratios would blow up on near-zero entries. */
    private static void compareGradients(GptModel model, SafeTensors.Contents torch) {
        float[] g = model.grads();
        List<String> bad = new ArrayList<>();
        double worst = 0;
        for (ParameterTensors.Tensor t : model.layout().tensors()) {
            SafeTensors.Tensor ref = torch.tensors().get(t.name());
            assertThat(ref).as("torch gradient of %s", t.name()).isNotNull();
            double diff = 0;
            double norm = 0;
            for (int i = 0; i < t.size(); i++) {
                double d = g[t.offset() + i] - ref.data()[i];
                diff += d * d;
                norm += (double) ref.data()[i] * ref.data()[i];
            }
            double rel = Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-30);
            if (rel > TOLERANCE) bad.add(t.name() + ": relative error " + rel);
            worst = Math.max(worst, rel);
        }
        System.out.printf("gradients against torch: worst relative error %.3g%n", worst);
        assertThat(bad).as("gradients that differ from torch's").isEmpty();
    }

    private static double relative(double a, double b) {
        return Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
    }

    static Path script() {
        String base = System.getProperty("basedir", ".");
        return Path.of(base, "src/test/python/reference_gpt.py").toAbsolutePath();
    }

    record Result(int exit, String output) {}

    static Result run(List<String> command, Path dir) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        if (dir != null) pb.directory(dir.toFile());
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            return new Result(-1, "timed out");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
