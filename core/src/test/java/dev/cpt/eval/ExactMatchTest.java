package dev.cpt.eval;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ExactMatchTest {

    @Test
    void theGenerationIsCutAtTheFirstStopStringAndStripped() {
        assertThat(ExactMatch.TRIVIAQA.filtered(" Paris, France.\nQuestion: next")).isEqualTo("Paris");
        assertThat(ExactMatch.TRIVIAQA.filtered("  The Beatles\n")).isEqualTo("The Beatles");
        assertThat(ExactMatch.TRIVIAQA.filtered("no stop at all ")).isEqualTo("no stop at all");
        assertThat(ExactMatch.TRIVIAQA.filtered("\n")).isEmpty();
    }

    @Test
    void triviaqaIgnoresCaseAndPunctuationButNotArticles() {
        assertThat(ExactMatch.TRIVIAQA.score("the beatles", List.of("Beatles", "The Beatles"))).isEqualTo(1.0);
        assertThat(ExactMatch.TRIVIAQA.score("the beatles", List.of("Beatles"))).isEqualTo(0.0);
        assertThat(ExactMatch.TRIVIAQA.score("Guns N Roses", List.of("Guns N' Roses"))).isEqualTo(1.0);
        // Inner spaces count: the metric does not collapse whitespace.
        assertThat(ExactMatch.TRIVIAQA.score("Guns  N Roses", List.of("Guns N' Roses"))).isEqualTo(0.0);
    }

    @Test
    void nqOpenAlsoDropsArticlesAtAWordStart() {
        assertThat(ExactMatch.NQ_OPEN.score("The Beatles", List.of("beatles"))).isEqualTo(1.0);
        assertThat(ExactMatch.NQ_OPEN.score("a dog", List.of("dog"))).isEqualTo(1.0);
        // "a " inside a word is not at a word boundary: "Santa Fe" keeps its "a ".
        assertThat(ExactMatch.NQ_OPEN.normalise("Santa Fe")).isEqualTo("santa fe");
        assertThat(ExactMatch.NQ_OPEN.score("cat", List.of("dog", "the cat"))).isEqualTo(1.0);
        assertThat(ExactMatch.NQ_OPEN.score("cats", List.of("cat"))).isEqualTo(0.0);
    }
}
