package dev.cpt.data.shard;

import dev.cpt.data.tokenize.Tokenizer;

/** What a shard records of the tokenizer that made it. */
public record TokenizerInfo(String id, int vocabSize, int endOfText) {

    public static TokenizerInfo of(Tokenizer t) {
        return new TokenizerInfo(t.id(), t.vocabSize(), t.endOfText());
    }
}
