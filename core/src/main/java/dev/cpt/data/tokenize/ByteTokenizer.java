package dev.cpt.data.tokenize;

import java.nio.charset.StandardCharsets;

/**
 * UTF-8 bytes as tokens, vocabulary 256: the simulator's default. Byte 0 (NUL), which text does
 * not contain, separates documents; a NUL inside a document's text is dropped on encoding.
 * Stateless, so safe to share between threads.
 */
public final class ByteTokenizer implements Tokenizer {

    public static final ByteTokenizer INSTANCE = new ByteTokenizer();

    private ByteTokenizer() {}

    @Override
    public String id() {
        return "bytes";
    }

    @Override
    public int vocabSize() {
        return 256;
    }

    @Override
    public int endOfText() {
        return 0;
    }

    @Override
    public int[] encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int n = 0;
        for (byte b : bytes) if (b != 0) n++;
        int[] tokens = new int[n];
        int i = 0;
        for (byte b : bytes) if (b != 0) tokens[i++] = b & 0xFF;
        return tokens;
    }

    @Override
    public String decode(int[] tokens, int from, int to) {
        byte[] bytes = new byte[to - from];
        for (int i = from; i < to; i++) bytes[i - from] = (byte) tokens[i];
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Bytes cut anywhere between characters concatenate to the bytes of the whole. */
    @Override
    public boolean cutsCleanlyAtLineBreaks() {
        return true;
    }
}
