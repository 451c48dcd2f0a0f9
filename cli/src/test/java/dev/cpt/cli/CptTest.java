package dev.cpt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CptTest {

    @Test
    void versionNamesTheProjectVersionAndJava() {
        CliRun r = CliRun.run("--version");
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("cpt ").contains("Java ").doesNotContain("${").doesNotContain("unknown");
    }

    @Test
    void helpListsTheCommands() {
        CliRun r = CliRun.run("--help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("schedule").contains("validate").contains("--version");
    }

    @Test
    void noCommandIsAUsageErrorThatShowsTheCommands() {
        CliRun r = CliRun.run();
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("schedule").contains("validate");
    }

    @Test
    void unknownCommandIsAUsageErrorWithASuggestion() {
        CliRun r = CliRun.run("schedul");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("schedul").contains("Did you mean").contains("cpt schedule");
    }

    @Test
    void unknownOptionIsAUsageError() {
        CliRun r = CliRun.run("schedule", "--pgn", "x.png", "spec.json");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--pgn").contains("Try 'cpt schedule --help'");
    }

    @Test
    void commandHelpWorks() {
        CliRun r = CliRun.run("schedule", "--help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("--at").contains("--png").contains("step,stage,lr,weight_decay");
    }
}
