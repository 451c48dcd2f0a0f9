package dev.cpt.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlainProgressTest {
    /** A clock the test moves by hand, in seconds. */
    private long nanos;
    private final StringWriter text = new StringWriter();

    private PlainProgress meter(String task, Progress.Unit unit, long total) {
        return new PlainProgress(new PrintWriter(text), task, unit, total, Duration.ofSeconds(5), () -> nanos);
    }

    private void at(double seconds) {
        nanos = Math.round(seconds * 1e9);
    }

    private List<String> lines() {
        return text.toString().lines().toList();
    }

    @Test
    void printsAStartLineThenAtMostOneLineAnIntervalThenAFinalLine() {
        PlainProgress p = meter("sweep main (12 runs)", Progress.Unit.STEPS, 28_800);
        p.startAt(0);
        assertThat(lines()).containsExactly("sweep main (12 runs): 0 / 28,800 steps (0.0%), n/a steps/s, time left n/a");
        for (int s = 1; s <= 14; s++) {
            at(s);
            p.stepTo(100L * s);
        }
        // lines at 5 s and 10 s only: 100 steps/s, 28,300 and 27,800 left
        assertThat(lines()).hasSize(3).element(1)
                .isEqualTo("sweep main (12 runs): 500 / 28,800 steps (1.7%), 100 steps/s, 4 min 43 s left");
        assertThat(lines().get(2)).isEqualTo("sweep main (12 runs): 1,000 / 28,800 steps (3.5%), 100 steps/s, 4 min 38 s left");
        at(14.5);
        p.stepTo(28_800);
        p.close();
        p.close();
        assertThat(lines()).hasSize(4);
        assertThat(lines().get(3)).isEqualTo("sweep main (12 runs): 28,800 / 28,800 steps (100.0%), 1,986 steps/s on average, done in 15 s");
        at(20);
        p.stepTo(28_800);
        assertThat(lines()).as("nothing after close").hasSize(4);
        assertThat(text.toString()).doesNotContain("\r");
    }

    @Test
    void theRateIsOverTheLastHalfMinuteAndTimeLeftIsWhatRemainsAtThatRate() {
        PlainProgress p = meter("train run", Progress.Unit.STEPS, 2_000);
        p.startAt(0);
        for (int s = 1; s <= 40; s++) {
            at(s);
            p.stepTo(10L * s);
        }
        assertThat(lines().getLast()).isEqualTo("train run: 400 / 2,000 steps (20.0%), 10.0 steps/s, 2 min 40 s left");
        for (int s = 41; s <= 45; s++) {
            at(s);
            p.stepTo(400 + 50L * (s - 40));
        }
        // from the line at 15 s (150 steps) to 45 s (650): 500 steps in 30 s; since the start it would be 650 / 45
        assertThat(lines().getLast()).isEqualTo("train run: 650 / 2,000 steps (32.5%), 16.7 steps/s, 1 min 21 s left");
        at(50);
        p.stepTo(650);
        // no step for 5 s: the window (20 s .. 50 s) still holds 450 steps
        assertThat(lines().getLast()).isEqualTo("train run: 650 / 2,000 steps (32.5%), 15.0 steps/s, 1 min 30 s left");
        at(51);
        p.close();
        assertThat(lines().getLast()).isEqualTo("train run: 650 / 2,000 steps (32.5%), 12.7 steps/s on average, stopped after 51 s");
    }

    @Test
    void workDoneBeforeTheStartDoesNotCountTowardsTheRate() {
        PlainProgress resumed = meter("sweep s (2 runs)", Progress.Unit.STEPS, 1_000);
        at(100);
        resumed.startAt(500);
        at(105);
        resumed.stepTo(600);
        assertThat(lines()).containsExactly(
                "sweep s (2 runs): 500 / 1,000 steps (50.0%), n/a steps/s, time left n/a",
                "sweep s (2 runs): 600 / 1,000 steps (60.0%), 20.0 steps/s, 20 s left");

        // without startAt the first update is the start: a resumed run's first step is 501, not 1
        text.getBuffer().setLength(0);
        PlainProgress train = meter("train t", Progress.Unit.STEPS, 1_000);
        at(200);
        train.stepTo(501);
        at(202);
        train.stepTo(502);
        at(205);
        train.stepTo(511);
        train.note("loss 3.214");
        at(210);
        train.stepTo(521);
        assertThat(lines()).containsExactly(
                "train t: 501 / 1,000 steps (50.1%), n/a steps/s, time left n/a",
                "train t: 511 / 1,000 steps (51.1%), 2.00 steps/s, 4 min 05 s left",
                "train t: 521 / 1,000 steps (52.1%), 2.00 steps/s, 4 min 00 s left, loss 3.214");
    }

    @Test
    void bytesShowAsMegabytesAndAnUnknownTotalAsACount() {
        PlainProgress p = meter("prepare", Progress.Unit.MB, 0);
        p.stepTo(0);
        at(5);
        p.stepTo(12_345_678);
        p.maxHint(40_000_000);
        at(10);
        p.stepTo(24_000_000);
        p.close();
        assertThat(lines()).containsExactly(
                "prepare: 0.0 MB, n/a MB/s, time left n/a",
                "prepare: 12.3 MB, 2.47 MB/s, time left n/a",
                "prepare: 24.0 / 40.0 MB (60.0%), 2.40 MB/s, 7 s left",
                "prepare: 24.0 / 40.0 MB (60.0%), 2.40 MB/s on average, stopped after 10 s");
    }

    @Test
    void aMeterThatNeverStartedPrintsNothing() {
        meter("train t", Progress.Unit.STEPS, 10).close();
        assertThat(text.toString()).isEmpty();
    }

    @Test
    void durationsAndRates() {
        assertThat(PlainProgress.duration(0)).isEqualTo("0 s");
        assertThat(PlainProgress.duration(59.4)).isEqualTo("59 s");
        assertThat(PlainProgress.duration(67)).isEqualTo("1 min 07 s");
        assertThat(PlainProgress.duration(3_725)).isEqualTo("1 h 02 min");
        assertThat(PlainProgress.rate(Double.NaN)).isEqualTo("n/a");
        assertThat(PlainProgress.rate(1234.4)).isEqualTo("1,234");
        assertThat(PlainProgress.rate(41.23)).isEqualTo("41.2");
        assertThat(PlainProgress.rate(0.5)).isEqualTo("0.50");
    }

    @Test
    void theBarIsForTerminalsOnlyUnlessCptProgressSaysOtherwise() {
        assertThat(Progress.style(null, null, true)).isEqualTo(Progress.Style.BAR);
        assertThat(Progress.style(null, null, false)).isEqualTo(Progress.Style.PLAIN);
        assertThat(Progress.style("auto", null, true)).isEqualTo(Progress.Style.BAR);
        // the launcher knows the caller's stderr; the JVM's console looks at stdin and stdout only
        assertThat(Progress.style("", "false", true)).isEqualTo(Progress.Style.PLAIN);
        assertThat(Progress.style(null, "true", false)).isEqualTo(Progress.Style.BAR);
        assertThat(Progress.style("plain", "true", true)).isEqualTo(Progress.Style.PLAIN);
        assertThat(Progress.style(" BAR ", "false", false)).isEqualTo(Progress.Style.BAR);
        assertThatThrownBy(() -> Progress.style("fancy", null, true))
                .isInstanceOf(CliException.class).hasMessage("CPT_PROGRESS=fancy: expected plain, bar or auto");
    }

    @Test
    void theIntervalIsSecondsAboveZero() {
        assertThat(Progress.interval(null)).isEqualTo(Duration.ofSeconds(5));
        assertThat(Progress.interval(" ")).isEqualTo(Duration.ofSeconds(5));
        assertThat(Progress.interval("0.25")).isEqualTo(Duration.ofMillis(250));
        assertThat(Progress.interval("30")).isEqualTo(Duration.ofSeconds(30));
        for (String bad : List.of("0", "-1", "five", "NaN", "1e9")) {
            assertThatThrownBy(() -> Progress.interval(bad)).isInstanceOf(CliException.class)
                    .hasMessageStartingWith("CPT_PROGRESS_INTERVAL=" + bad + ": expected seconds");
        }
    }
}
