package dev.cpt.schedule;

import static dev.cpt.schedule.ScheduleAsserts.T;
import static dev.cpt.schedule.ScheduleAsserts.assertConstant;
import static dev.cpt.schedule.ScheduleAsserts.bind;
import static dev.cpt.schedule.ScheduleAsserts.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cpt.spec.Problems;
import org.junit.jupiter.api.Test;

/**
 * Piecewise constant: the value of the first piece whose end is above t (in steps), or whose
 * {@code until} fraction is above t/T; a fraction ends at the exclusive step ceil(until · T).
 * SlimPajama-DC's PTWD: weight decay 0, then 0.5, then 0.1, by thirds.
 */
class PiecewiseScheduleTest {

    private static final String PTWD = "{\"type\":\"piecewise\",\"pieces\":["
            + "{\"until\":0.3333333333333333,\"value\":0},"
            + "{\"until\":0.6666666666666666,\"value\":0.5},"
            + "{\"until\":1.0,\"value\":0.1}]}";

    @Test
    void ptwdByThirdsOfAThousandSteps() {
        // ceil(333.33…) = 334, ceil(666.66…) = 667, 1000: t/T = 0.333 < 1/3 but 0.334 > 1/3
        Schedule s = new PiecewiseSchedule(new long[] {334, 667, 1000}, new double[] {0, 0.5, 0.1}, T);
        assertConstant(s, 0, 333, 0.0);
        assertConstant(s, 334, 666, 0.5);
        assertConstant(s, 667, 999, 0.1);
        assertThat(s.at(1000)).isEqualTo(0.1);      // one past the last update: the last piece's value
        assertThat(s.span()).isEqualTo(T);
    }

    @Test
    void fractionsBindToCeilingStepEnds() {
        Schedule s = bind(PTWD, T);
        assertConstant(s, 0, 333, 0.0);
        assertConstant(s, 334, 666, 0.5);
        assertConstant(s, 667, 1000, 0.1);
    }

    @Test
    void aPieceEndingExactlyOnAStepExcludesThatStep() {
        // T = 999: 1/3 · 999 = 333 exactly; at t = 333, t/T = 1/3 is not below 1/3: the second piece.
        Schedule s = bind(PTWD, 999);
        assertConstant(s, 0, 332, 0.0);
        assertConstant(s, 333, 665, 0.5);           // 2/3 · 999 = 666
        assertConstant(s, 666, 999, 0.1);
    }

    @Test
    void roundingNoiseInTheProductIsForgiven() {
        // 0.07 · 100 = 7.000000000000001 in doubles: the end step is 7 (t = 7 has t/T = 0.07, not below),
        // not 8. 0.29 · 100 = 28.999999999999996: the end is 29 (t = 28 has t/T = 0.28 < 0.29).
        String json = "{\"type\":\"piecewise\",\"pieces\":[{\"until\":0.07,\"value\":1},"
                + "{\"until\":0.29,\"value\":2},{\"until\":1,\"value\":3}]}";
        Schedule s = bind(json, 100);
        assertConstant(s, 0, 6, 1.0);
        assertConstant(s, 7, 28, 2.0);
        assertConstant(s, 29, 100, 3.0);
    }

    @Test
    void stepEndsAndFractionsMix() {
        String json = "{\"type\":\"piecewise\",\"pieces\":[{\"untilStep\":5,\"value\":0.2},{\"until\":1,\"value\":0.1}]}";
        Schedule s = bind(json, 20);
        assertConstant(s, 0, 4, 0.2);
        assertConstant(s, 5, 20, 0.1);
    }

    @Test
    void aLastPieceBeyondTheSpanIsAllowed() {
        Schedule s = new PiecewiseSchedule(new long[] {5, 50}, new double[] {1, 2}, 20);
        assertConstant(s, 5, 20, 2.0);
        assertThat(s.at(60)).isEqualTo(2.0);
    }

    @Test
    void rejectsBadPieces() {
        assertThatThrownBy(() -> new PiecewiseSchedule(new long[] {}, new double[] {}, T))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PiecewiseSchedule(new long[] {500, 1000}, new double[] {1}, T))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PiecewiseSchedule(new long[] {500, 500, 1000}, new double[] {1, 2, 3}, T))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("increase");
        assertThatThrownBy(() -> new PiecewiseSchedule(new long[] {334, 667, 999}, new double[] {0, 0.5, 0.1}, T))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("999").hasMessageContaining("1000");

        Problems p = new Problems();
        String shortLast = "{\"type\":\"piecewise\",\"pieces\":[{\"until\":0.5,\"value\":0},{\"until\":0.9,\"value\":1}]}";
        assertThat(spec(shortLast).bind(T, "weightDecay", p)).isNull();
        assertThat(p.all()).extracting(Object::toString).containsExactly(
                "weightDecay.pieces[1]: the last piece ends at step 900 but the span has 1000 steps: it must reach the end (until 1.0)");

        Problems q = new Problems();
        // With T = 10, until 0.31 and 0.35 both end at step 4: the second piece would be empty.
        String collapsed = "{\"type\":\"piecewise\",\"pieces\":[{\"until\":0.31,\"value\":0},"
                + "{\"until\":0.35,\"value\":1},{\"until\":1,\"value\":2}]}";
        assertThat(spec(collapsed).bind(10, "weightDecay", q)).isNull();
        assertThat(q.all()).extracting(Object::toString).containsExactly(
                "weightDecay.pieces[1]: ends at step 4, not after the previous piece's 4 (pieces must be in increasing order)");
    }

    @Test
    void theScheduleCannotBeChangedThroughItsArrays() {
        long[] until = {334, 667, 1000};
        double[] values = {0, 0.5, 0.1};
        PiecewiseSchedule s = new PiecewiseSchedule(until, values, T);
        until[0] = 1;
        values[0] = 9;
        assertThat(s.at(0)).isEqualTo(0.0);
        s.values()[0] = 9;          // nor through its accessors
        s.untilSteps()[0] = 1;
        assertThat(s.at(0)).isEqualTo(0.0);
    }
}
