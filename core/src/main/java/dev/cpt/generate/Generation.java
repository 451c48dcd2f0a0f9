package dev.cpt.generate;

import dev.cpt.train.Engine;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A continuation of a prompt, one token at a time on an engine's {@link Engine.Decoder}: the
 * prompt is fed, then each drawn token is fed back until {@code maxTokens} are drawn, the
 * end-of-text token is drawn, or the model's context is full.
 *
 * <p>The context rule: a model of context C sees positions 0 … C−1, so a sequence holds at most
 * C fed tokens, and the token drawn from the last position's logits makes C + 1. Generation stops
 * there ({@link Stop#CONTEXT_FULL}) rather than sliding a window: a model with learned positions
 * has no position C to put the next token at (transformers' GPT-2 fails with an index error on
 * that step). A prompt longer than the context is refused.
 *
 * @param prompt the tokens fed first
 * @param tokens the tokens drawn after them, the end-of-text token included when it stopped there
 */
public record Generation(int[] prompt, int[] tokens, Stop stop) {

    /** Why generation ended. */
    public enum Stop {
        /** {@code maxTokens} were drawn. */
        MAX_TOKENS("max_tokens"),
        /** The end-of-text token was drawn (it is the last of {@link #tokens()}). */
        END_OF_TEXT("end_of_text"),
        /** The sequence reached the context length + 1; the model has no position for another token. */
        CONTEXT_FULL("context_full");

        private final String id;

        Stop(String id) {
            this.id = id;
        }

        /** How the reason is written in JSON. */
        public String id() {
            return id;
        }
    }

    /**
     * Feeds {@code prompt} to {@code decoder} (which must be fresh) and draws up to
     * {@code maxTokens} tokens with {@code sampler} from the first {@code vocab} logits.
     *
     * @param endOfText the token that ends a document, or −1 for none
     * @param rng read only when the sampler samples (temperature above 0)
     * @throws IllegalArgumentException for an empty prompt, one longer than the context, or
     *     {@code maxTokens} below 1
     */
    public static Generation run(Engine.Decoder decoder, int[] prompt, int maxTokens, TokenSampler sampler, int vocab,
                                 int endOfText, SplittableRandom rng) {
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt has no tokens; generation needs at least one to start from");
        int context = decoder.contextLength();
        if (prompt.length > context) {
            throw new IllegalArgumentException("the prompt is " + prompt.length + " tokens, longer than the model's context of "
                    + context + " tokens");
        }
        if (maxTokens < 1) throw new IllegalArgumentException("the number of tokens to generate must be at least 1, not " + maxTokens);
        if (decoder.length() != 0) throw new IllegalStateException("the decoder has already been fed " + decoder.length() + " tokens");
        float[] logits = null;
        for (int t : prompt) logits = decoder.append(t);
        int[] out = new int[Math.min(maxTokens, context + 1 - prompt.length)];
        int n = 0;
        while (true) {
            int next = sampler.next(logits, vocab, rng);
            out[n++] = next;
            if (next == endOfText) return new Generation(prompt, Arrays.copyOf(out, n), Stop.END_OF_TEXT);
            if (n == maxTokens) return new Generation(prompt, Arrays.copyOf(out, n), Stop.MAX_TOKENS);
            if (decoder.length() == context) return new Generation(prompt, Arrays.copyOf(out, n), Stop.CONTEXT_FULL);
            logits = decoder.append(next);
        }
    }

    /** The prompt and the drawn tokens, in order. */
    public int[] sequence() {
        int[] all = Arrays.copyOf(prompt, prompt.length + tokens.length);
        System.arraycopy(tokens, 0, all, prompt.length, tokens.length);
        return all;
    }
}
