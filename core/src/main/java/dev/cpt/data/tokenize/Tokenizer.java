package dev.cpt.data.tokenize;

/**
 * Text to token ids and back. Every shard records the {@link #id()} and {@link #vocabSize()} of
 * the tokenizer that made it, so that a run never mixes shards of different vocabularies.
 *
 * <p>Every tokenizer {@link Tokenizers#open} returns is safe to use from several threads at once:
 * {@link #encode} and {@link #decode} keep no state between calls.
 */
public interface Tokenizer {

    /** How to get this tokenizer again: {@code bytes}, {@code gpt2}, {@code hf:PATH}. */
    String id();

    int vocabSize();

    /** The token that separates documents. */
    int endOfText();

    /**
     * The tokens of a document's text, as ordinary text: a special token's spelling inside the text
     * (such as {@code <|endoftext|>}) never becomes that special token.
     */
    int[] encode(String text);

    String decode(int[] tokens, int from, int to);

    /**
     * Whether encoding text cut just after a line break gives the same tokens as encoding it whole,
     * when the character before the {@code '\n'} and the one after it are both non-whitespace:
     * {@code encode(a + b)} equals {@code encode(a)} followed by {@code encode(b)}. Data preparation
     * then tokenizes a long document in pieces on several threads. False unless known to hold.
     */
    default boolean cutsCleanlyAtLineBreaks() {
        return false;
    }
}
