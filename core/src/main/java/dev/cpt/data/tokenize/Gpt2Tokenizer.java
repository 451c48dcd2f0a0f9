package dev.cpt.data.tokenize;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;

/**
 * GPT-2's byte-level BPE ({@code r50k_base}) through JTokkit: vocabulary 50257, end-of-text 50256.
 * Text is encoded as ordinary text, so {@code <|endoftext|>} written inside a document becomes the
 * tokens of those characters, never the separator. JTokkit's encodings are immutable after loading,
 * so one instance serves every thread.
 */
public final class Gpt2Tokenizer implements Tokenizer {
    public static final int VOCAB_SIZE = 50257;
    public static final int END_OF_TEXT = 50256;

    private static final class Holder {
        static final Gpt2Tokenizer INSTANCE = new Gpt2Tokenizer();
    }

    private final Encoding encoding;

    private Gpt2Tokenizer() {
        this.encoding = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
    }

    /** The shared instance; loads the BPE ranks on first use. */
    public static Gpt2Tokenizer instance() {
        return Holder.INSTANCE;
    }

    @Override
    public String id() {
        return "gpt2";
    }

    @Override
    public int vocabSize() {
        return VOCAB_SIZE;
    }

    @Override
    public int endOfText() {
        return END_OF_TEXT;
    }

    @Override
    public int[] encode(String text) {
        return encoding.encodeOrdinary(text).toArray();
    }

    @Override
    public String decode(int[] tokens, int from, int to) {
        IntArrayList list = new IntArrayList(to - from);
        for (int i = from; i < to; i++) list.add(tokens[i]);
        return encoding.decode(list);
    }

    /**
     * GPT-2's pre-tokenizer keeps a lone {@code '\n'} between two non-space characters as its own
     * piece, and a piece starting with a non-space character does not look back, so a cut there
     * splits no piece: the BPE merges never cross it.
     */
    @Override
    public boolean cutsCleanlyAtLineBreaks() {
        return true;
    }
}
