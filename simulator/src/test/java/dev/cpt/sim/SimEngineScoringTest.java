package dev.cpt.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.cpt.data.Batch;
import dev.cpt.spec.ModelSpec;
import dev.cpt.spec.OptimizerSpec;
import dev.cpt.train.Engine;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link SimEngine#scoreTokens}: a row scores as it does alone, and agrees with the training loss. */
class SimEngineScoringTest {
    static final ModelSpec.Shape SHAPE = new ModelSpec.Shape("gpt2", 2, 32, 2, 24, 48);
    static final OptimizerSpec OPT = new OptimizerSpec(0.9, 0.95, 1e-8, 1.0);

    static int[] random(Random rnd, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = rnd.nextInt(SHAPE.vocabSize());
        return t;
    }

    @Test
    void rowsOfDifferentLengthsScoreAsAloneAndSumToTheLoss() {
        Random rnd = new Random(11);
        int[] longest = random(rnd, SHAPE.contextLength() + 1);
        int[] shorter = random(rnd, 7);
        int[] shortest = random(rnd, 2);
        try (SimEngine engine = new SimEngine(SHAPE, OPT, 3, SHAPE.contextLength(), 2)) {
            // A few steps, so the scores are not those of the near-uniform initial model.
            Batch b = new Batch(1, SHAPE.contextLength());
            System.arraycopy(longest, 0, b.tokens(), 0, longest.length);
            for (int i = 0; i < 5; i++) engine.trainStep(b, 1e-2, 0.0);

            List<Engine.TokenScores> together = engine.scoreTokens(List.of(shorter, longest, shortest));
            assertThat(together.get(0).logProbs()).hasSize(6);
            assertThat(together.get(1).logProbs()).hasSize(SHAPE.contextLength());
            assertThat(together.get(2).logProbs()).hasSize(1);
            Engine.TokenScores alone = engine.scoreTokens(List.of(shorter)).getFirst();
            for (int i = 0; i < 6; i++) {
                assertThat(together.get(0).logProbs()[i]).isCloseTo(alone.logProbs()[i], within(1e-5));
                assertThat(together.get(0).greedy()[i]).isEqualTo(alone.greedy()[i]);
            }
            double sum = 0;
            for (double lp : together.get(1).logProbs()) sum += lp;
            assertThat(-sum / SHAPE.contextLength()).isCloseTo(engine.evalLoss(b), within(1e-5));
            boolean anyGreedy = false;
            for (boolean g : together.get(1).greedy()) anyGreedy |= g;
            assertThat(anyGreedy).as("five steps on this sequence make some of its tokens the argmax").isTrue();

            assertThatThrownBy(() -> engine.scoreTokens(List.of(new int[SHAPE.contextLength() + 2])))
                    .hasMessageContaining("scoring needs 2 to " + (SHAPE.contextLength() + 1));
        }
    }

    @Test
    void anEngineThatCannotScoreSaysWhichItIs() {
        Engine plain = new Engine() {
            public StepResult trainStep(Batch batch, double lr, double weightDecay) { return null; }
            public double evalLoss(Batch batch) { return 0; }
            public void resetOptimizer() {}
            public void save(Path dir) {}
            public void load(Path dir) {}
            public EngineInfo info() { return new EngineInfo("torch", 0, 0); }
        };
        assertThatThrownBy(() -> plain.scoreTokens(List.of(new int[] {1, 2})))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("the torch engine cannot score");
    }
}
