package dev.cpt.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cpt.ffi.NativeLibrary;
import dev.cpt.record.Json;
import org.junit.jupiter.api.Test;

class BenchCommandTest {
    @Test
    void printsOneJsonLineOfSpeed() {
        CliRun r = CliRun.run("bench", "--model", "toy-xs", "--batch", "2x16", "--threads", "1", "--seconds", "0.2");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().strip()).startsWith("{\"model\": \"toy-xs\", \"batch\": \"2x16\", \"threads\": 1, \"tokensPerSecond\": ")
                .contains("\"msPerStep\"").contains("\"gflops\"").doesNotContain("\n");
    }

    @Test
    void badArgumentsAreNamed() {
        CliRun r = CliRun.run("bench", "--model", "405m");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("--model 405m");
        CliRun b = CliRun.run("bench", "--model", "toy-xs", "--batch", "4x999");
        assertThat(b.code()).isEqualTo(1);
        assertThat(b.err()).contains("context 64");
    }

    @Test
    void badTorchOptionsAreNamedBeforeAnyModelIsBuilt() {
        String[][] cases = {
            {"--device", "tpu", "--device must be cpu or cuda, not \"tpu\""},
            {"--precision", "fp16", "--precision must be fp32 or bf16, not \"fp16\""},
            {"--kernels", "triton", "--kernels must be auto, fused or eager, not \"triton\""},
            {"--steps", "0", "--steps must be at least 1"},
            {"--warmup", "-1", "--warmup at least 0"},
            {"--peak-tflops", "0", "--peak-tflops must be positive"},
        };
        for (String[] c : cases) {
            CliRun r = CliRun.run("bench", "--engine", "torch", "--model", "toy-xs", "--batch", "4x16", c[0], c[1]);
            assertThat(r.code()).as(c[0]).isEqualTo(1);
            assertThat(r.err()).as(c[0]).contains(c[2]);
        }
    }

    @Test
    void theTorchEngineReportsItsMedianStepAndMemory() throws Exception {
        if ("1".equals(System.getenv("CPT_CI"))) assertThat(NativeLibrary.present()).as("CPT_CI=1: libcpt_torch.so built").isTrue();
        assumeTrue(NativeLibrary.present(), "libcpt_torch.so is not built (native/build.sh needs libtorch-dev)");
        CliRun r = CliRun.run("bench", "--engine", "torch", "--model", "toy-xs", "--batch", "4x16", "--micro-batch", "2",
                "--warmup", "1", "--steps", "3", "--threads", "1", "--activation-checkpointing");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = Json.MAPPER.readTree(r.out().strip());
        // --kernels auto on the CPU: ATen runs the memory-bound parts (the fused kernels are CUDA's).
        assertThat(j.get("impl").asText()).isEqualTo("cpt-eager-ops-checkpointed");
        assertThat(j.get("kernels").asText()).isEqualTo("eager");
        assertThat(j.get("microBatch").asInt()).isEqualTo(2);
        assertThat(j.get("steps").asInt()).isEqualTo(3);
        assertThat(j.get("tokensPerSecond").asDouble()).isPositive();
        assertThat(j.get("mfu").isNull()).as("no MFU on the CPU").isTrue();
        assertThat(j.get("peakMemoryGiB").asDouble()).isPositive();

        CliRun odd = CliRun.run("bench", "--engine", "torch", "--model", "toy-xs", "--batch", "4x16", "--micro-batch", "3");
        assertThat(odd.code()).isEqualTo(1);
        assertThat(odd.err()).contains("--micro-batch 3 does not divide the batch's 4 sequences");
        CliRun simOnly = CliRun.run("bench", "--model", "405m");
        assertThat(simOnly.err()).contains("--engine torch runs all");
    }
}
