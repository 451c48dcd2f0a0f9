package dev.cpt.reproduce;

import java.util.List;

/**
 * A finding of PAPER.md (C1–C13) as the reproduction tests it: the paper's statement, what we
 * compare, and the comparisons whose verdicts make the claim's ({@link Verdict#of}).
 */
public record Claim(String id, String statement, String comparison, List<Comparison> comparisons) {

    public record Result(Claim claim, List<Comparison.Result> comparisons, Verdict verdict) {}

    public Result measure(Outcomes outcomes) {
        List<Comparison.Result> results = comparisons.stream().map(c -> c.measure(outcomes)).toList();
        return new Result(this, results, Verdict.of(results.stream().map(Comparison.Result::verdict).toList()));
    }
}
