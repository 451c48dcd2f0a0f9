package dev.cpt.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.cpt.data.tokenize.ByteTokenizer;
import dev.cpt.data.tokenize.Tokenizer;
import dev.cpt.data.tokenize.Tokenizers;
import dev.cpt.train.Engine;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The harness's token split, truncation, sums and metrics, on a scorer whose answers are known. */
class ContinuationScorerTest {

    @Test
    void trailingSpacesMoveToTheContinuationAndItsTokensAreTheWholeMinusTheContext() {
        Tokenizer gpt2 = Tokenizers.open("gpt2");
        var e = ContinuationScorer.encode(gpt2, "The sky is ", " blue");
        assertThat(e.context()).containsExactly(gpt2.encode("The sky is"));
        int[] whole = gpt2.encode("The sky is  blue");
        assertThat(e.continuation()).containsExactly(Arrays.copyOfRange(whole, e.context().length, whole.length));
        assertThat(gpt2.decode(e.continuation(), 0, e.continuation().length)).isEqualTo("  blue");

        var q = ContinuationScorer.encode(gpt2, "Question: Which is a gas?\nAnswer:", " steam");
        assertThat(gpt2.decode(q.continuation(), 0, q.continuation().length)).isEqualTo(" steam");
        // A newline is whitespace too: it moves with the spaces.
        assertThat(ContinuationScorer.encode(ByteTokenizer.INSTANCE, "a\n ", "b").continuation()).containsExactly('\n', ' ', 'b');
        // An empty context is the prefix token (end-of-text) and the continuation alone.
        var empty = ContinuationScorer.encode(gpt2, "", " word");
        assertThat(empty.context()).containsExactly(50256);
        assertThat(empty.continuation()).containsExactly(gpt2.encode(" word"));
    }

    /** Scores position i as −(i + 1) / 100 − token / 10⁴ (so every value is distinct), greedy where the token is even. */
    static final class KnownScorer implements ContinuationScorer.SequenceScorer {
        final List<List<int[]>> batches = new ArrayList<>();

        @Override
        public List<Engine.TokenScores> score(List<int[]> sequences) {
            batches.add(sequences);
            List<Engine.TokenScores> out = new ArrayList<>();
            for (int[] s : sequences) {
                double[] lp = new double[s.length - 1];
                boolean[] g = new boolean[s.length - 1];
                for (int i = 0; i < lp.length; i++) {
                    lp[i] = -(i + 1) / 100.0 - s[i + 1] / 1e4;
                    g[i] = s[i + 1] % 2 == 0;
                }
                out.add(new Engine.TokenScores(lp, g));
            }
            return out;
        }
    }

    @Test
    void inputsAreTruncatedFromTheLeftAndBatchedLongestFirst() {
        KnownScorer known = new KnownScorer();
        var scorer = new ContinuationScorer(ByteTokenizer.INSTANCE, known, 8, 2);
        List<ContinuationScorer.Request> requests = List.of(
                new ContinuationScorer.Request("abcdefghij", " xy"), // 13 bytes: the model sees the last 9
                new ContinuationScorer.Request("ab", " d"),
                new ContinuationScorer.Request("abcd", " bd"));
        List<Long> progress = new ArrayList<>();
        var lls = scorer.score(requests, progress::add);

        assertThat(known.batches).hasSize(2);
        assertThat(known.batches.get(0).get(0)).containsExactly(ByteTokenizer.INSTANCE.encode("efghij xy"));
        assertThat(known.batches.get(0).get(1)).containsExactly(ByteTokenizer.INSTANCE.encode("abcd bd"));
        assertThat(known.batches.get(1).get(0)).containsExactly(ByteTokenizer.INSTANCE.encode("ab d"));
        assertThat(progress).containsExactly(2L, 3L);
        // "efghij xy": the continuation " xy" is the targets at positions 5, 6, 7 of 8.
        assertThat(lls.get(0).logLikelihood()).isCloseTo(-(0.06 + 0.07 + 0.08) - (' ' + 'x' + 'y') / 1e4, within(1e-12));
        assertThat(lls.get(0).greedy()).isFalse(); // 'y' is odd
        assertThat(lls.get(1).logLikelihood()).isCloseTo(-(0.02 + 0.03) - (' ' + 'd') / 1e4, within(1e-12));
        assertThat(lls.get(1).greedy()).isTrue(); // ' ' = 32 and 'd' = 100 are even
        assertThat(lls.get(2).greedy()).isTrue(); // ' ', 'b' = 98 and 'd' are all even
        assertThat(lls.get(2).logLikelihood()).isCloseTo(-(0.04 + 0.05 + 0.06) - (' ' + 'b' + 'd') / 1e4, within(1e-12));

        assertThatThrownBy(() -> scorer.score(List.of(new ContinuationScorer.Request("a", " too long here")), n -> {}))
                .isInstanceOf(ContinuationScorer.RequestException.class).hasMessageContaining("more than the model's context of 8");
    }

    static List<ContinuationScorer.Loglikelihood> lls(double... v) {
        return Arrays.stream(v).mapToObj(x -> new ContinuationScorer.Loglikelihood(x, false)).toList();
    }

    @Test
    void accAccNormTrueMassAndStandardErrorsAsTheHarness() {
        // acc_norm divides by the choice's length in characters (code points): "é" is 1, though 2 bytes.
        TaskDoc d = new TaskDoc(0, 1, "q", List.of("é", "abc"), List.of(" é", " abc"), 1, List.of());
        Map<String, Double> m = Evaluation.itemMetrics(EvalTask.HELLASWAG, d, lls(-2.0, -3.0));
        assertThat(m).containsEntry("acc", 0.0).containsEntry("acc_norm", 1.0); // −2/1 < −3/3
        // Ties go to the first, as numpy's argmax.
        assertThat(Evaluation.itemMetrics(EvalTask.HELLASWAG, d, lls(-3.0, -3.0))).containsEntry("acc", 0.0);
        assertThat(Evaluation.itemMetrics(EvalTask.MMLU, d, lls(-3.0, -2.0))).containsOnlyKeys("acc").containsEntry("acc", 1.0);

        TaskDoc mc2 = new TaskDoc(0, 1, "q", List.of("a", "b", "c"), List.of(" a", " b", " c"), 0, List.of(true, true, false));
        double mass = Evaluation.itemMetrics(EvalTask.TRUTHFULQA_MC2, mc2, lls(Math.log(0.2), Math.log(0.1), Math.log(0.1))).get("acc");
        assertThat(mass).isCloseTo(0.75, within(1e-12));
        // Far below exp's range the normalized mass is still defined.
        assertThat(Evaluation.itemMetrics(EvalTask.TRUTHFULQA_MC2, mc2, lls(-2000, -2000, -2000)).get("acc")).isCloseTo(2.0 / 3, within(1e-12));

        assertThat(Evaluation.meanStderr(new double[] {1, 0, 0, 1})).isCloseTo(Math.sqrt(1.0 / 3) / 2, within(1e-15));
        var agg = Evaluation.aggregate(EvalTask.LAMBADA, List.of(Map.of("perplexity", -2.0, "acc", 1.0)));
        assertThat(agg).containsEntry("perplexity,none", Math.exp(2.0)).containsEntry("acc,none", 1.0)
                .containsEntry("acc_stderr,none", "N/A").doesNotContainKey("perplexity_stderr,none");
    }
}
