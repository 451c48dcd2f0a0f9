package dev.cpt.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cpt.record.Json;
import dev.cpt.train.Engine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The torch engine's scoring (cpt eval) and KV-cached decoding (cpt generate) against independent
 * float64 references: hf_neox_checkpoint.py's GPT-NeoX and hf_mpt_checkpoint.py's MPT with ALiBi
 * (per-position log-probabilities and the greedy continuation) and hf_gpt2_checkpoint.py's GPT-2
 * (logits and the greedy continuation), each on a checkpoint it wrote in Hugging Face's layout. Rows of different lengths scored in one
 * padded batch score as each alone; the decoder's logits, position by position, are the full
 * forward's; its greedy continuation is the full forward's argmax continuation.
 */
class TorchScoringTest {
    static final double TOLERANCE = 1e-4;

    @TempDir
    Path tmp;

    @BeforeAll
    static void prerequisites() throws Exception {
        HfNeoxCheckpointTest.prerequisites();
    }

    /** The reference's rows cut to different lengths (a causal model scores a prefix as the whole row's first positions). */
    static List<int[]> ragged() {
        int[][] rows = HfNeoxCheckpointTest.ROWS;
        return List.of(rows[0], Arrays.copyOf(rows[1], 9), Arrays.copyOf(rows[2], 2), Arrays.copyOf(rows[0], 12));
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    /** log softmax(v)[k] in double. */
    static double logSoftmax(float[] v, int k) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : v) max = Math.max(max, x);
        double sum = 0;
        for (float x : v) sum += Math.exp(x - max);
        return v[k] - max - Math.log(sum);
    }

    @Test
    void neoxLogProbabilitiesAndGreedyGenerationMatchTheFloat64NeoX() throws Exception {
        HfNeoxCheckpointTest setup = new HfNeoxCheckpointTest();
        setup.tmp = tmp;
        // Pythia's rules, and a sequential, tied, tanh-GELU, half-rotary variant.
        String[][] variants = {{}, {"--sequential", "--tied", "--act", "gelu_new", "--rotary-pct", "0.5", "--rotary-base", "500"}};
        for (int v = 0; v < variants.length; v++) {
            List<String> options = new ArrayList<>(List.of(variants[v]));
            options.addAll(List.of("--logprobs", "--generate", "6"));
            HfNeoxCheckpointTest.Written w = setup.written("neox-" + v, options.toArray(String[]::new));
            JsonNode ref = w.reference();
            for (TorchEngine.Kernels kernels : List.of(TorchEngine.Kernels.EAGER, TorchEngine.Kernels.FUSED)) {
                String what = "neox variant " + v + ", " + kernels;
                try (TorchEngine engine = HfNeoxCheckpointTest.engine("hf:" + w.dir(), kernels)) {
                    scoresAndGreedyGenerationMatch(engine, ref, what, "the float64 NeoX");
                }
            }
        }
    }

    @Test
    void mptLogProbabilitiesAndGreedyGenerationMatchTheFloat64Mpt() throws Exception {
        HfMptCheckpointTest setup = new HfMptCheckpointTest();
        setup.tmp = tmp;
        // 4 heads (slopes 2^-2, 2^-4, ...); 6 (not a power of two: MPT's interleaved slopes of 8); and
        // 6 with alibi_bias_max 5 (other slopes again, with the same interleaving).
        record Variant(int heads, String... options) {}
        List<Variant> variants = List.of(new Variant(4), new Variant(6), new Variant(6, "--alibi-bias-max", "5"));
        for (Variant v : variants) {
            List<String> options = new ArrayList<>(List.of(v.options()));
            options.addAll(List.of("--logprobs", "--generate", "6"));
            String name = "mpt, " + v.heads() + " heads" + (v.options().length == 0 ? "" : ", " + String.join(" ", v.options()));
            HfMptCheckpointTest.Written w = setup.written("mpt-" + variants.indexOf(v), v.heads(), options.toArray(String[]::new));
            JsonNode ref = w.reference();
            for (TorchEngine.Kernels kernels : List.of(TorchEngine.Kernels.EAGER, TorchEngine.Kernels.FUSED)) {
                String what = name + ", " + kernels;
                try (TorchEngine engine = HfMptCheckpointTest.engine("hf:" + w.dir(), kernels)) {
                    scoresAndGreedyGenerationMatch(engine, ref, what, "the float64 MPT");
                }
            }
        }
    }

    /**
     * ragged()'s rows scored in one padded batch: each position within TOLERANCE of the reference's
     * "logprobs", each row as it scores alone, its greedy flags the full forward's argmax; the first
     * row's cached and full-forward greedy continuations the reference's "generated" (6 tokens);
     * the cached logits over a whole context the full forward's.
     */
    static void scoresAndGreedyGenerationMatch(TorchEngine engine, JsonNode ref, String what, String reference) {
        List<int[]> rows = ragged();
        List<Engine.TokenScores> batched = engine.scoreTokens(rows);
        int[] refRow = {0, 1, 2, 0};
        for (int r = 0; r < rows.size(); r++) {
            Engine.TokenScores s = batched.get(r);
            assertThat(s.logProbs()).as(what + " row " + r).hasSize(rows.get(r).length - 1);
            JsonNode want = ref.get("logprobs").get(refRow[r]);
            for (int i = 0; i < s.logProbs().length; i++) {
                assertThat(s.logProbs()[i]).as(what + " row " + r + " position " + i)
                        .isCloseTo(want.get(i).asDouble(), org.assertj.core.data.Offset.offset(TOLERANCE));
            }
            // Padded with the longer rows or alone: the same scores.
            Engine.TokenScores alone = engine.scoreTokens(List.of(rows.get(r))).getFirst();
            for (int i = 0; i < s.logProbs().length; i++) {
                assertThat(s.logProbs()[i]).as(what + " row " + r + " alone, position " + i)
                        .isCloseTo(alone.logProbs()[i], org.assertj.core.data.Offset.offset(1e-5));
            }
            assertThat(s.greedy()).as(what + " row " + r + " greedy flags alone").isEqualTo(alone.greedy());
            // is_greedy is the full forward's argmax.
            float[][] logits = engine.forwardLogits(Arrays.copyOf(rows.get(r), rows.get(r).length - 1));
            for (int i = 0; i < s.greedy().length; i++) {
                assertThat(s.greedy()[i]).as(what + " row " + r + " greedy at " + i)
                        .isEqualTo(argmax(logits[i]) == rows.get(r)[i + 1]);
            }
        }
        int[] prompt = HfNeoxCheckpointTest.ROWS[0];
        assertThat(greedyCached(engine, prompt, 6)).as(what + ": cached greedy continuation vs " + reference)
                .containsExactly(ints(ref.get("generated")));
        assertThat(greedyFullForward(engine, prompt, 6)).as(what + ": full-forward greedy continuation")
                .containsExactly(ints(ref.get("generated")));
        // The prompt and its greedy continuation: every continuation position scores as greedy.
        int[] whole = Arrays.copyOf(prompt, prompt.length + 6);
        System.arraycopy(ints(ref.get("generated")), 0, whole, prompt.length, 6);
        boolean[] flags = engine.scoreTokens(List.of(whole)).getFirst().greedy();
        assertThat(Arrays.copyOfRange(flags, prompt.length - 1, flags.length)).as(what + ": greedy flags of the continuation")
                .containsOnly(true);
        cachedLogitsAreTheFullForwards(engine, fill(HfNeoxCheckpointTest.CTX), what);
    }

    @Test
    void gpt2CachedLogitsScoresAndGreedyGenerationMatchTheFloat64Gpt2() throws Exception {
        Path dir = tmp.resolve("gpt2");
        int[] tokens = {3, 17, 9, 44, 2, 60, 31, 8};
        String ids = String.join(",", Arrays.stream(tokens).mapToObj(Integer::toString).toList());
        var r = HfNeoxCheckpointTest.run(List.of(HfNeoxCheckpointTest.PYTHON, gpt2Script().toString(), "--out", dir.toString(),
                "--tokens", ids, "--layers", "2", "--d", "32", "--heads", "4", "--ctx", "24", "--vocab", "64", "--seed", "4",
                "--prefix", "--generate", "10"));
        assertThat(r.exit()).as("hf_gpt2_checkpoint.py failed:\n%s", r.output()).isZero();
        JsonNode ref = Json.MAPPER.readTree(dir.resolve("reference_logits.json").toFile());
        try (TorchEngine engine = HfNeoxCheckpointTest.engine("hf:" + dir, TorchEngine.Kernels.AUTO);
             Engine.Decoder decoder = engine.decoder()) {
            for (int i = 0; i < tokens.length; i++) {
                float[] logits = decoder.append(tokens[i]);
                JsonNode want = ref.get("logits").get(i);
                for (int k = 0; k < logits.length; k++) {
                    assertThat((double) logits[k]).as("gpt2 cached logit at position %d, token %d", i, k)
                            .isCloseTo(want.get(k).asDouble(), org.assertj.core.data.Offset.offset(TOLERANCE));
                }
            }
            Engine.TokenScores s = engine.scoreTokens(List.of(tokens)).getFirst();
            for (int i = 0; i + 1 < tokens.length; i++) {
                float[] want = new float[64];
                for (int k = 0; k < 64; k++) want[k] = (float) ref.get("logits").get(i).get(k).asDouble();
                assertThat(s.logProbs()[i]).as("gpt2 log-probability at %d", i)
                        .isCloseTo(logSoftmax(want, tokens[i + 1]), org.assertj.core.data.Offset.offset(TOLERANCE));
            }
            assertThat(greedyCached(engine, tokens, 10)).as("gpt2 cached greedy continuation").containsExactly(ints(ref.get("greedy")));
            assertThat(greedyFullForward(engine, tokens, 10)).containsExactly(ints(ref.get("greedy")));
            cachedLogitsAreTheFullForwards(engine, fill(24), "gpt2");
        }
    }

    @Test
    void fullContextsBadTokensAndClosedDecodersAreNamed() throws Exception {
        HfNeoxCheckpointTest setup = new HfNeoxCheckpointTest();
        setup.tmp = tmp;
        HfNeoxCheckpointTest.Written w = setup.written("neox");
        TorchEngine engine = HfNeoxCheckpointTest.engine("hf:" + w.dir(), TorchEngine.Kernels.AUTO);
        Engine.Decoder d = engine.decoder();
        assertThat(d.contextLength()).isEqualTo(HfNeoxCheckpointTest.CTX);
        assertThatThrownBy(() -> d.append(HfNeoxCheckpointTest.VOCAB)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("outside the model's vocabulary of 80");
        for (int i = 0; i < HfNeoxCheckpointTest.CTX; i++) d.append(i % 50);
        assertThat(d.length()).isEqualTo(HfNeoxCheckpointTest.CTX);
        assertThatThrownBy(() -> d.append(1)).isInstanceOf(IllegalStateException.class).hasMessageContaining("context of 24 tokens is full");
        assertThat(d.length()).isEqualTo(HfNeoxCheckpointTest.CTX);

        assertThatThrownBy(() -> engine.scoreTokens(List.of(new int[] {1, 2}, new int[] {5}))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sequence 1 has 1 tokens; scoring needs 2 to 25");
        assertThatThrownBy(() -> engine.scoreTokens(List.of(new int[26]))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sequence 0 has 26 tokens");
        // The library checks the tokens and says which row and position (a CPT_ERR_ARGUMENT, not a crash).
        assertThatThrownBy(() -> engine.scoreTokens(List.of(new int[] {1, 2, 3}, new int[] {4, 99})))
                .isInstanceOf(NativeException.class)
                .hasMessageContaining("token 99 at row 1, position 1 is outside the vocabulary [0, 80)")
                .hasMessageContaining("CPT_ERR_ARGUMENT");
        assertThatThrownBy(() -> engine.forwardLogits(new int[25])).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1 to 24");
        // Closing the engine closes its decoders (they point into its model).
        engine.close();
        assertThatThrownBy(() -> d.append(1)).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        d.close();
    }

    /** Each position's cached logits within 1e-4 of the full forward's over the same prefix. */
    static void cachedLogitsAreTheFullForwards(TorchEngine engine, int[] sequence, String what) {
        float[][] full = engine.forwardLogits(sequence);
        double worst = 0;
        try (Engine.Decoder d = engine.decoder()) {
            for (int i = 0; i < sequence.length; i++) {
                float[] cached = d.append(sequence[i]);
                for (int k = 0; k < cached.length; k++) worst = Math.max(worst, Math.abs(cached[k] - full[i][k]));
            }
        }
        System.out.printf("%s: cached against full-forward logits over %d positions, worst difference %.3g%n", what, sequence.length, worst);
        assertThat(worst).as(what + ": cached logits against the full forward's").isLessThan(TOLERANCE);
    }

    static int[] greedyCached(TorchEngine engine, int[] prompt, int n) {
        int[] out = new int[n];
        try (Engine.Decoder d = engine.decoder()) {
            float[] logits = null;
            for (int t : prompt) logits = d.append(t);
            for (int i = 0; i < n; i++) {
                out[i] = argmax(logits);
                if (i + 1 < n) logits = d.append(out[i]);
            }
        }
        return out;
    }

    static int[] greedyFullForward(TorchEngine engine, int[] prompt, int n) {
        int[] seq = Arrays.copyOf(prompt, prompt.length + n);
        for (int i = 0; i < n; i++) {
            float[][] logits = engine.forwardLogits(Arrays.copyOf(seq, prompt.length + i));
            seq[prompt.length + i] = argmax(logits[logits.length - 1]);
        }
        return Arrays.copyOfRange(seq, prompt.length, seq.length);
    }

    /** A whole context of varied tokens below 64. */
    static int[] fill(int n) {
        int[] s = new int[n];
        for (int i = 0; i < n; i++) s[i] = (i * 37 + 11) % 61;
        return s;
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }

    static Path gpt2Script() {
        Path p = Path.of("../simulator/src/test/python/hf_gpt2_checkpoint.py");
        return Files.isRegularFile(p) ? p : Path.of("simulator/src/test/python/hf_gpt2_checkpoint.py");
    }
}
