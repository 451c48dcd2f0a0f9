package dev.cpt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cpt.reproduce.Reproduction;
import dev.cpt.reproduce.Workload;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ReproduceProgressTest {
    static final long SECOND = 1_000_000_000L;

    /** Three parts: 100 and 300 FLOPs at toy-xs, 600 at toy-s (the parts' sweeps are not read here). */
    static Workload work() {
        var options = new Reproduction.Options(0.02, 2, 1, List.of("rewarm", "replay"), "test");
        List<Reproduction.Part> read = Reproduction.read(java.nio.file.Path.of("..", "examples", "paper"), options);
        List<Reproduction.Part> parts = List.of(read.get(0), read.get(1), read.get(2));
        assertThat(parts).extracting(p -> p.model().name()).containsExactly("toy-xs", "toy-xs", "toy-s");
        return new Workload(parts, List.of(100.0, 300.0, 600.0), List.of(10L, 30L, 12L));
    }

    @Test
    void saysWhichPartAndTheTimeAllPartsHaveLeftAtThePaceSoFar() {
        AtomicLong clock = new AtomicLong(5 * SECOND);
        ReproduceProgress p = new ReproduceProgress(clock::get);
        p.started(work());
        assertThat(p.nextPart()).isEqualTo("[1/3] ");
        // No pace before a minute of work.
        clock.addAndGet(59 * SECOND);
        assertThat(p.context(0.5)).isNull();
        // 100 FLOPs done in 100 s: 900 left take 900 s.
        clock.set(105 * SECOND);
        assertThat(p.context(1.0)).isEqualTo("about 15 min 00 s left in all");
        assertThat(p.nextPart()).isEqualTo("[2/3] ");
        // Half the second part as well: 250 FLOPs in 200 s, 750 left at 1.25 a second.
        clock.set(205 * SECOND);
        assertThat(p.context(0.5)).isEqualTo("about 10 min 00 s left in all");
        assertThat(p.nextPart()).isEqualTo("[3/3] ");
        clock.set(3605 * SECOND);
        assertThat(p.context(0.0)).isEqualTo("about 1 h 30 min left in all");
        assertThat(p.context(1.0)).isEqualTo("about 0 s left in all");
    }

    @Test
    void withoutAWorkloadItSaysNothing() {
        ReproduceProgress p = new ReproduceProgress(() -> 0);
        assertThat(p.nextPart()).isEmpty();
        assertThat(p.context(0.5)).isNull();
    }

    @Test
    void theSummaryCountsStepsPerScale() {
        assertThat(ReproduceProgress.summary(work())).isEqualTo("cpt reproduce: 3 parts, 52 training steps to go (toy-xs 40, toy-s 12)");
    }
}
