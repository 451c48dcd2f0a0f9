package dev.cpt.data.tokenize;

/**
 * Text to token ids and back. Every shard records the {@link #id()} and {@link #vocabSize()} of
 * the tokenizer that made it, so that a run never mixes shards of different vocabularies.
 */
public interface Tokenizer {

    /** How to get this tokenizer again: {@code bytes}, {@code gpt2}, {@code hf:PATH}. */
    String id();

    int vocabSize();

    /** The token that separates documents. */
    int endOfText();

    int[] encode(String text);

    String decode(int[] tokens, int from, int to);
}
