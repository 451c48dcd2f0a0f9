package dev.cpt.record;

import java.util.Map;

/**
 * One line of {@code metrics.jsonl}. Line {@code step} describes update {@code step} (0-based, as in
 * {@code cpt schedule}): {@code val} is measured just before it, i.e. on the model after
 * {@code step} updates and {@code tokens} training tokens; {@code lr}, {@code weightDecay},
 * {@code loss} and {@code gradNorm} are the update's own. The last line, {@code step} = total
 * steps, carries only the final evaluation. {@code tasks}, on the lines of step 0 and of every
 * stage end of a run with {@code eval.tasks}, holds each benchmark's metrics on that same model,
 * keyed as {@code cpt eval}'s results.json keys them ({@code "acc,none"}, {@code "acc_stderr,none"}, …).
 */
public record StepRecord(long step, String stage, long tokens, Double lr, Double weightDecay, Double loss,
                         Double gradNorm, Map<String, Double> val, Double tokensPerSecond,
                         Map<String, Map<String, Double>> tasks) {

    /** A line without benchmark scores. */
    public StepRecord(long step, String stage, long tokens, Double lr, Double weightDecay, Double loss, Double gradNorm,
                      Map<String, Double> val, Double tokensPerSecond) {
        this(step, stage, tokens, lr, weightDecay, loss, gradNorm, val, tokensPerSecond, null);
    }
}
