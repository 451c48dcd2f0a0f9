package dev.cpt.cli;

import static org.assertj.core.api.Assertions.assertThat;

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
}
