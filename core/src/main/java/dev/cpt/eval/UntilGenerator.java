package dev.cpt.eval;

import dev.cpt.data.tokenize.Tokenizer;
import dev.cpt.generate.TokenSampler;
import dev.cpt.train.Engine;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * lm-evaluation-harness's {@code generate_until} requests on a cpt engine, greedy as the
 * generative tasks ask ({@code do_sample: false}): the context's tokens (nothing prepended) cut
 * from the left to the model's context less {@code max_gen_toks}, then up to
 * {@code max_gen_toks} argmax tokens drawn with the engine's KV-cached {@link Engine.Decoder},
 * stopping at the end-of-text token; the continuation's text is cut before the first of the
 * {@code until} strings (the harness's postprocess_generated_text).
 *
 * <p>Drawing stops as soon as a stop string appears in the continuation's text. The harness's
 * stopping criteria do the same; what a longer draw would add comes after the cut and never
 * reaches the result (text decoded from a prefix of the tokens is a prefix of the whole's, up to
 * an incomplete character at its end, which a stop string cannot follow).
 *
 * <p>The argmax runs over the tokenizer's ids: a model's padded vocabulary rows (ids no
 * tokenizer decodes) are never drawn, as in {@code cpt generate}.
 */
public final class UntilGenerator {

    /**
     * One request's result.
     *
     * @param text the continuation before the first stop string (what the harness's resps hold)
     * @param tokens the tokens drawn, the end-of-text token not among them
     * @param contextTokens how many tokens of the context the model saw
     * @param truncated whether the context was cut from the left to fit
     */
    public record Result(String text, int[] tokens, int contextTokens, boolean truncated) {}

    private final Tokenizer tokenizer;
    private final Supplier<Engine.Decoder> decoders;
    private final int maxLength;
    private final int maxGenTokens;

    /**
     * @param decoders a fresh decoder for each request
     * @param maxLength the model's context length
     * @param maxGenTokens the most tokens drawn per request (the harness's max_gen_toks, 256 by default)
     */
    public UntilGenerator(Tokenizer tokenizer, Supplier<Engine.Decoder> decoders, int maxLength, int maxGenTokens) {
        if (maxGenTokens < 1) throw new IllegalArgumentException("the tokens to generate must be at least 1, not " + maxGenTokens);
        if (maxGenTokens >= maxLength) {
            throw new IllegalArgumentException("generating up to " + maxGenTokens + " tokens leaves no room for a context in the model's "
                    + maxLength + " positions (the harness refuses this too: max_gen_toks must be below the model's max_length)");
        }
        this.tokenizer = tokenizer;
        this.decoders = decoders;
        this.maxLength = maxLength;
        this.maxGenTokens = maxGenTokens;
    }

    public int maxGenTokens() {
        return maxGenTokens;
    }

    /** The greedy continuation of {@code context}, cut before the first of {@code until}. */
    public Result generate(String context, List<String> until) {
        int[] ctx = tokenizer.encode(context);
        // An empty context starts from the end-of-text token, as cpt eval's scorer and cpt generate start.
        if (ctx.length == 0) ctx = new int[] {tokenizer.endOfText()};
        int room = maxLength - maxGenTokens;
        boolean truncated = ctx.length > room;
        if (truncated) ctx = Arrays.copyOfRange(ctx, ctx.length - room, ctx.length);
        TokenSampler greedy = TokenSampler.greedy();
        int vocab = tokenizer.vocabSize();
        int[] out = new int[maxGenTokens];
        int n = 0;
        try (Engine.Decoder decoder = decoders.get()) {
            float[] logits = null;
            for (int t : ctx) logits = decoder.append(t);
            while (n < maxGenTokens) {
                int next = greedy.next(logits, vocab, null);
                if (next == tokenizer.endOfText()) break;
                out[n++] = next;
                if (n == maxGenTokens || containsStop(tokenizer.decode(out, 0, n), until)) break;
                logits = decoder.append(next);
            }
        }
        int[] tokens = Arrays.copyOf(out, n);
        return new Result(cut(tokenizer.decode(tokens, 0, n), until), tokens, ctx.length, truncated);
    }

    private static boolean containsStop(String text, List<String> until) {
        for (String s : until) if (!s.isEmpty() && text.contains(s)) return true;
        return false;
    }

    /** The text before the first occurrence of any of {@code until} (empty strings ignored), as the harness cuts it. */
    public static String cut(String text, List<String> until) {
        String s = text;
        for (String term : until) {
            if (term.isEmpty()) continue;
            int at = s.indexOf(term);
            if (at >= 0) s = s.substring(0, at);
        }
        return s;
    }
}
