package dev.cpt.reproduce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.cpt.plan.RunPlan;
import dev.cpt.plan.Stage;
import dev.cpt.record.StepRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OutcomesTest {

    static StepRecord eval(long step, double loss) {
        return new StepRecord(step, "x", 0, null, null, null, null, Map.of("en", loss), null);
    }

    @Test
    void theBoundarySlopeIsTheLeastSquaresSlopeOverTheFirstStagesLastShare() {
        // pre-training 1,000 steps, then 1,000 more; loss falls 0.5 per 1,000 steps until step 800, then 0.1 per 1,000
        Stage first = new Stage(0, "pretrain", 0, 1000, List.of(), null, null, null, false);
        Stage second = new Stage(1, "continue", 1000, 1000, List.of(), null, null, null, true);
        RunPlan plan = new RunPlan(null, List.of(first, second), 2000);
        List<StepRecord> metrics = new ArrayList<>();
        for (long s = 50; s <= 2000; s += 50) {
            double loss = s <= 800 ? 3 - 0.5e-3 * s : 3 - 0.5e-3 * 800 - 0.1e-3 * (s - 800);
            metrics.add(eval(s, s > 1000 ? 5 : loss)); // after the boundary: ignored
        }
        Outcomes.Run run = new Outcomes.Run(null, metrics, plan);
        // the window (800, 1000]: steps 850..1000, all on the 0.1-per-1,000 line
        assertThat(run.boundarySlope("en", 0.2)).isCloseTo(-0.1, within(1e-9));
        // (500, 1000]: a mix, steeper than the end alone
        assertThat(run.boundarySlope("en", 0.5)).isLessThan(-0.1);
        // under 3 evaluations in the window: no slope
        assertThat(run.boundarySlope("en", 0.06)).isNull();
        assertThat(run.boundarySlope("de", 0.2)).isNull();
    }
}
