package dev.cpt.data.shard;

import dev.cpt.data.tokenize.Tokenizer;

/** What a shard records of the tokenizer that made it. */
public record TokenizerInfo(String id, int vocabSize, int endOfText) {

    /**
     * GPT-2's BPE (tiktoken {@code gpt2}): 50,257 ids, {@code <|endoftext|>} = 50256. What nanoGPT,
     * llm.c's GPT-2 files and most GPT-NeoX-era Megatron data use; the default for formats that do
     * not record their tokenizer.
     */
    public static final TokenizerInfo GPT2 = new TokenizerInfo("gpt2", 50257, 50256);

    /**
     * Llama 3's tokenizer as llm.c's uint32 files use it: 128,256 ids, documents delimited by
     * {@code <|begin_of_text|>} = 128000.
     */
    public static final TokenizerInfo LLAMA3 = new TokenizerInfo("llama3", 128256, 128000);

    /**
     * GPT-NeoX-20B's tokenizer (the Pile, Pythia): 50,277 ids, {@code <|endoftext|>} = 0. Models pad
     * the vocabulary further (Pythia-410M: 50,432).
     */
    public static final TokenizerInfo NEOX20B = new TokenizerInfo("gpt-neox-20b", 50277, 0);

    public static TokenizerInfo of(Tokenizer t) {
        return new TokenizerInfo(t.id(), t.vocabSize(), t.endOfText());
    }

    /** "gpt2 (vocabulary 50257)". */
    public String describe() {
        return id + " (vocabulary " + vocabSize + ")";
    }
}
