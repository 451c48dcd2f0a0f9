package dev.cpt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cpt.record.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PromoteAndPlanCommandTest {

    @TempDir
    Path tmp;

    /** A sweep directory as cpt sweep leaves it, with one variant at two seeds. */
    Path sweep() throws IOException {
        String spec = """
            { "name": "s/strong-1x@seed=%d", "seed": %d, "model": { "preset": "toy-xs" }, "batch": { "sequences": 16, "seqLen": 64 },
              "datasets": { "en": { "train": "data/builtin/en/train.bin" }, "de": { "train": "data/builtin/de/train.bin" } },
              "stages": [
                { "name": "pretrain", "steps": 1200, "mix": { "en": 1 }, "lr": { "type": "cosine", "max": 3e-3, "min": 3e-4, "warmup": 0.01 } },
                { "name": "continue", "steps": 1200, "mix": { "de": 1 }, "resetOptimizer": true, "replay": { "fraction": 0.25, "from": { "en": 1 } },
                  "lr": { "type": "cosine", "max": 3e-3, "min": 3e-4, "warmup": 0.01 } } ] }
            """;
        for (int seed : new int[] {2, 1}) {
            Path run = Files.createDirectories(tmp.resolve("sweep/runs/strong-1x@seed=" + seed));
            Files.writeString(run.resolve("spec.json"), spec.formatted(seed, seed));
        }
        return tmp.resolve("sweep");
    }

    @Test
    void promotesTheLowestSeedOfAVariantAndPlansIt() throws IOException {
        Path out = tmp.resolve("run.json");
        CliRun r = CliRun.run("promote", sweep().toString(), "--variant", "strong-1x", "--model", "405m",
                "--tokens", "en=300e9,de=200e9", "--data", "en=data/pile,de=data/german-cc", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("132,685 steps", "300.0 B tokens", "× 0.1", "cpt plan " + out);
        JsonNode spec = Json.MAPPER.readTree(out.toFile());
        assertThat(spec.get("seed").asLong()).isEqualTo(1);
        assertThat(spec.at("/stages/1/lr/max").asDouble()).isEqualTo(3e-4);
        assertThat(spec.at("/stages/1/replay/fraction").asDouble()).isEqualTo(0.25);
        assertThat(CliRun.run("validate", out.toString()).code()).isZero();

        CliRun plan = CliRun.run("plan", out.toString());
        assertThat(plan.code()).as(plan.err()).isZero();
        assertThat(plan.out()).contains("405,596,160 parameters", "micro-batch 4 (276 accumulation steps)", "fits:");

        CliRun json = CliRun.run("plan", out.toString(), "--json");
        assertThat(Json.MAPPER.readTree(json.out()).get("fits").asBoolean()).isTrue();

        // The step time on 64 GPUs across machines: compute plus what ZeRO-1's collectives leave exposed.
        CliRun multi = CliRun.run("plan", out.toString(), "--gpus", "64", "--zero", "1");
        assertThat(multi.code()).as(multi.err()).isZero();
        assertThat(multi.out()).contains("step time on 64 GPUs (ZeRO-1, ib-ndr, 50 GB/s", "all-reduce gradients", "all-gather updated weights",
                "tokens/s", "GPU-hours");
        var t = Json.MAPPER.readTree(CliRun.run("plan", out.toString(), "--gpus", "64", "--zero", "1", "--json").out());
        double compute = t.at("/stepTime/computeSeconds").asDouble(), step = t.get("stepSeconds").asDouble();
        assertThat(step).isGreaterThan(compute);
        assertThat(t.get("effectiveMfu").asDouble()).isLessThan(0.45).isGreaterThan(0);
        assertThat(t.get("gpuHours").asDouble()).isCloseTo(step * t.get("steps").asLong() * 64 / 3600, org.assertj.core.data.Percentage.withPercentage(1e-6));
        // a faster link leaves less exposed
        var fast = Json.MAPPER.readTree(CliRun.run("plan", out.toString(), "--gpus", "64", "--zero", "1", "--interconnect", "nvlink4", "--json").out());
        assertThat(fast.get("stepSeconds").asDouble()).isLessThan(step).isGreaterThanOrEqualTo(compute);
    }

    @Test
    void lbs7bPromotesAsMptAndIsPlannedWithMptsParameterCount() throws IOException {
        Path out = tmp.resolve("lbs.json");
        CliRun r = CliRun.run("promote", sweep().toString(), "--variant", "strong-1x@seed=2", "--model", "lbs-7b",
                "--tokens", "pretrain=300e9,continue=200e9", "--gpus", "232", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode spec = Json.MAPPER.readTree(out.toFile());
        assertThat(spec.at("/model/preset").asText()).isEqualTo("lbs-7b");
        assertThat(spec.at("/stages/0/lr/max").asDouble()).isEqualTo(1.8e-4);  // SlimPajama-DC's η_max
        CliRun plan = CliRun.run("plan", out.toString(), "--gpus", "232");
        assertThat(plan.code()).as(plan.out()).isZero();
        // MPT-7B's count: no biases, no positions, the head tied
        assertThat(plan.out()).contains("6,649,286,656 parameters");
    }

    @Test
    void the10bDoesNotFitOneGpuAndThePlanSaysHowManyItNeeds() throws IOException {
        Path out = tmp.resolve("ten.json");
        CliRun r = CliRun.run("promote", sweep().toString(), "--variant", "strong-1x@seed=2", "--model", "10b",
                "--tokens", "pretrain=300e9,continue=200e9", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("note: datasets en, de still name the simulator run's files");
        CliRun plan = CliRun.run("plan", out.toString());
        assertThat(plan.code()).isEqualTo(1);
        assertThat(plan.out()).contains("does not fit", "at least 3 GPUs: --gpus 3 --zero 3");
        CliRun sharded = CliRun.run("plan", out.toString(), "--gpus", "3", "--zero", "3");
        assertThat(sharded.code()).as(sharded.out()).isZero();

        // Promoted for 8 GPUs: the spec carries the lowest ZeRO stage that fits, and cpt plan reads it from there.
        Path eight = tmp.resolve("ten-8.json");
        CliRun onEight = CliRun.run("promote", sweep().toString(), "--variant", "strong-1x@seed=2", "--model", "10b",
                "--tokens", "pretrain=300e9,continue=200e9", "--gpus", "8", "--out", eight.toString());
        assertThat(onEight.code()).as(onEight.err()).isZero();
        int stage = Json.MAPPER.readTree(eight.toFile()).at("/parallel/zero").asInt(-1);
        assertThat(onEight.out()).contains("parallel: ZeRO-" + stage + ", the lowest stage that fits on 8 GPUs of 80 GiB");
        for (int lower = 0; lower < stage; lower++) {
            assertThat(CliRun.run("plan", eight.toString(), "--gpus", "8", "--zero", Integer.toString(lower)).code()).as("ZeRO-" + lower).isEqualTo(1);
        }
        CliRun planned = CliRun.run("plan", eight.toString(), "--gpus", "8");
        assertThat(planned.code()).as(planned.out()).isZero();
        assertThat(planned.out()).contains("ZeRO-" + stage + " over 8 GPUs");
        assertThat(CliRun.run("validate", eight.toString()).code()).isZero();
        // a stage outside 0..3 in the spec is named at its field
        Files.writeString(eight, Files.readString(eight).replaceAll("\"zero\" : \\d", "\"zero\" : 4"));
        CliRun bad = CliRun.run("validate", eight.toString());
        assertThat(bad.code()).isNotZero();
        assertThat(bad.out() + bad.err()).contains("parallel.zero").contains("the ZeRO stages are 0, 1, 2 and 3");
    }

    @Test
    void mistakesAreNamed() throws IOException {
        Path sweep = sweep();
        CliRun variant = CliRun.run("promote", sweep.toString(), "--variant", "nope", "--tokens", "en=1e9", "--out", tmp.resolve("x.json").toString());
        assertThat(variant.err()).contains("no variant \"nope\"", "it has: strong-1x");
        CliRun notSweep = CliRun.run("promote", tmp.toString(), "--variant", "v", "--tokens", "en=1e9", "--out", tmp.resolve("x.json").toString());
        assertThat(notSweep.err()).contains("is not a sweep's directory");
        CliRun tokens = CliRun.run("promote", sweep.toString(), "--variant", "strong-1x", "--tokens", "en=lots,de=1e9", "--out", tmp.resolve("x.json").toString());
        assertThat(tokens.err()).contains("--tokens en must be a whole number of tokens", "\"lots\"");
        CliRun missing = CliRun.run("promote", sweep.toString(), "--variant", "strong-1x", "--tokens", "en=1e10", "--out", tmp.resolve("x.json").toString());
        assertThat(missing.err()).contains("no token budget for stage \"continue\"");
        CliRun batch = CliRun.run("promote", sweep.toString(), "--variant", "strong-1x", "--tokens", "en=1e10,de=1e10", "--batch", "1104",
                "--out", tmp.resolve("x.json").toString());
        assertThat(batch.err()).contains("--batch must be SEQUENCESxLENGTH");
        assertThat(tmp.resolve("x.json")).doesNotExist();

        Path out = tmp.resolve("run.json");
        assertThat(CliRun.run("promote", sweep.toString(), "--variant", "strong-1x", "--tokens", "en=1e10,de=1e10", "--out", out.toString()).code()).isZero();
        assertThat(CliRun.run("plan", out.toString(), "--precision", "fp8").err()).contains("--precision must be bf16 or fp32");
        assertThat(CliRun.run("plan", out.toString(), "--zero", "4").err()).contains("--zero must be 0, 1, 2 or 3");
        assertThat(CliRun.run("plan", out.toString(), "--kernels", "triton").err()).contains("--kernels must be fused or eager, not \"triton\"");
        assertThat(CliRun.run("plan", out.toString(), "--gpus", "0").err()).contains("--gpus must be at least 1");
        assertThat(CliRun.run("plan", out.toString(), "--gpus", "8", "--interconnect", "carrier-pigeon").err())
                .contains("--interconnect", "\"carrier-pigeon\"", "nvlink4", "GB/s");
        assertThat(CliRun.run("plan", out.toString(), "--peak-tflops", "0").err()).contains("--peak-tflops must be positive");
    }
}
