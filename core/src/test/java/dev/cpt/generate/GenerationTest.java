package dev.cpt.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cpt.data.Batch;
import dev.cpt.train.Engine;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link Generation}: the three ways it stops, the context rule and the refusals, on a decoder whose argmax is known. */
class GenerationTest {
    static final int VOCAB = 10;

    /** A decoder of context {@code context} whose most likely next token is (the last token fed + 1) mod 10. */
    static final class Counting implements Engine.Decoder {
        final int context;
        final float[] logits = new float[VOCAB];
        int length;

        Counting(int context) {
            this.context = context;
        }

        public int contextLength() {
            return context;
        }

        public int length() {
            return length;
        }

        public float[] append(int token) {
            if (length == context) throw new IllegalStateException("full");
            length++;
            java.util.Arrays.fill(logits, 0f);
            logits[(token + 1) % VOCAB] = 5f;
            return logits;
        }
    }

    private static Generation greedy(int context, int[] prompt, int maxTokens, int endOfText) {
        return Generation.run(new Counting(context), prompt, maxTokens, TokenSampler.greedy(), VOCAB, endOfText, new SplittableRandom(1));
    }

    @Test
    void itStopsAtMaxTokensAtTheEndOfTextTokenOrWhenTheContextIsFull() {
        Generation g = greedy(20, new int[] {1, 2}, 4, -1);
        assertThat(g.tokens()).containsExactly(3, 4, 5, 6);
        assertThat(g.stop()).isEqualTo(Generation.Stop.MAX_TOKENS);
        assertThat(g.sequence()).containsExactly(1, 2, 3, 4, 5, 6);

        Generation eot = greedy(20, new int[] {5}, 10, 8);
        assertThat(eot.tokens()).containsExactly(6, 7, 8);
        assertThat(eot.stop()).isEqualTo(Generation.Stop.END_OF_TEXT);

        // Context 6: six tokens are fed, the seventh is drawn from the last position and ends it.
        Counting d = new Counting(6);
        Generation full = Generation.run(d, new int[] {0, 1}, 100, TokenSampler.greedy(), VOCAB, -1, new SplittableRandom(1));
        assertThat(full.sequence()).containsExactly(0, 1, 2, 3, 4, 5, 6);
        assertThat(full.stop()).isEqualTo(Generation.Stop.CONTEXT_FULL);
        assertThat(d.length()).isEqualTo(6);
        // A prompt that fills the context still gets its one token.
        assertThat(greedy(3, new int[] {4, 4, 4}, 5, -1).tokens()).containsExactly(5);
        // Max tokens reached exactly as the context fills: max tokens is the reason.
        assertThat(greedy(3, new int[] {4}, 3, -1).stop()).isEqualTo(Generation.Stop.MAX_TOKENS);
    }

    @Test
    void aSampledContinuationDependsOnlyOnTheSeed() {
        TokenSampler s = new TokenSampler(5.0, 0, 1);
        int[] a = Generation.run(new Counting(64), new int[] {3}, 40, s, VOCAB, -1, new SplittableRandom(7)).tokens();
        int[] b = Generation.run(new Counting(64), new int[] {3}, 40, s, VOCAB, -1, new SplittableRandom(7)).tokens();
        int[] c = Generation.run(new Counting(64), new int[] {3}, 40, s, VOCAB, -1, new SplittableRandom(8)).tokens();
        assertThat(a).isEqualTo(b).isNotEqualTo(c);
    }

    @Test
    void badRequestsAreRefusedNamingTheProblem() {
        assertThatThrownBy(() -> greedy(4, new int[0], 5, -1)).hasMessageContaining("the prompt has no tokens");
        assertThatThrownBy(() -> greedy(4, new int[] {1, 2, 3, 4, 5}, 5, -1))
                .hasMessageContaining("the prompt is 5 tokens, longer than the model's context of 4 tokens");
        assertThatThrownBy(() -> greedy(4, new int[] {1}, 0, -1)).hasMessageContaining("at least 1, not 0");
        Counting used = new Counting(4);
        used.append(1);
        assertThatThrownBy(() -> Generation.run(used, new int[] {1}, 2, TokenSampler.greedy(), VOCAB, -1, new SplittableRandom(1)))
                .hasMessageContaining("already been fed 1 tokens");
    }

    @Test
    void anEngineThatCannotDecodeSaysWhichItIs() {
        Engine plain = new Engine() {
            public StepResult trainStep(Batch batch, double lr, double weightDecay) { return null; }
            public double evalLoss(Batch batch) { return 0; }
            public void resetOptimizer() {}
            public void save(Path dir) {}
            public void load(Path dir) {}
            public EngineInfo info() { return new EngineInfo("torch", 0, 0); }
        };
        assertThatThrownBy(plain::decoder).isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("the torch engine cannot generate text yet");
    }
}
