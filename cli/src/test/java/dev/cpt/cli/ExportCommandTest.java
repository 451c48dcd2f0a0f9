package dev.cpt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cpt.hf.HfModel;
import dev.cpt.hf.SafetensorsFiles;
import dev.cpt.sim.SimEngine;
import dev.cpt.spec.ModelSpec;
import dev.cpt.spec.OptimizerSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cpt export}: a simulator checkpoint and an hf: model out as Hugging Face directories. */
class ExportCommandTest {
    static final ModelSpec.Shape SHAPE = new ModelSpec.Shape("gpt2", 2, 16, 2, 16, 40);

    @TempDir
    Path tmp;

    @Test
    void aCheckpointExportsAndReExportsToTheSameTensorsShardedOrNot() throws Exception {
        Path checkpoint = tmp.resolve("run/checkpoints/step-00000012");
        try (SimEngine e = new SimEngine(SHAPE, OptimizerSpec.DEFAULT, 5, 16, 1)) {
            e.save(Files.createDirectories(checkpoint.resolve("engine")));
        }
        Files.writeString(checkpoint.resolve("loop.json"), "{\"step\": 12}");

        Path first = tmp.resolve("first");
        CliRun r = CliRun.run("export", checkpoint.toString(), "--format", "hf", "--out", first.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("GPT2LMHeadModel (2 layers, d 16, 2 heads, context 16, vocabulary 40)")
                .contains("no tokenizer.json known");
        assertThat(first.resolve("config.json")).isRegularFile();
        assertThat(first.resolve(SafetensorsFiles.SINGLE)).isRegularFile();

        Files.writeString(first.resolve("tokenizer.json"), "{\"model\": {}}");
        Path second = tmp.resolve("second");
        r = CliRun.run("export", "hf:" + first, "--format", "hf", "--out", second.toString(), "--max-shard-bytes", "4000");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(second.resolve(SafetensorsFiles.INDEX)).isRegularFile();
        assertThat(second.resolve("tokenizer.json")).hasContent("{\"model\": {}}");
        var a = HfModel.read(first);
        var b = HfModel.read(second);
        assertThat(b.shape()).isEqualTo(SHAPE);
        a.tensors().forEach((name, t) -> assertThat(b.tensors().get(name).sameAs(t)).as(name).isTrue());
        try (var s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
        }

        r = CliRun.run("export", "hf:" + first, "--format", "hf", "--out", second.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains(second + ": already exists");
        r = CliRun.run("export", "hf:" + first, "--format", "onnx", "--out", tmp.resolve("x").toString());
        assertThat(r.err()).contains("--format must be hf, not \"onnx\"");
        r = CliRun.run("export", tmp.resolve("nothing").toString(), "--format", "hf", "--out", tmp.resolve("y").toString());
        assertThat(r.err()).contains(tmp.resolve("nothing") + ": no such directory");
    }
}
