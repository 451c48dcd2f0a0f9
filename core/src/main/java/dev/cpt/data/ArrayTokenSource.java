package dev.cpt.data;

import java.util.Objects;

/** Tokens held in an int array: small corpora, generated data and tests. */
public record ArrayTokenSource(String name, int[] tokens) implements TokenSource {

    public ArrayTokenSource {
        Objects.requireNonNull(name);
        Objects.requireNonNull(tokens);
    }

    @Override
    public long length() {
        return tokens.length;
    }

    @Override
    public void read(long offset, int[] dst, int dstOffset, int count) {
        System.arraycopy(tokens, Math.toIntExact(offset), dst, dstOffset, count);
    }
}
