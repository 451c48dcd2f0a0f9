package dev.cpt.spec;

/** A batch of {@code sequences} rows of {@code seqLen} tokens (each row also needs its next-token targets). */
public record BatchSpec(Integer sequences, Integer seqLen) {

    public void validate(String path, Problems p) {
        if (p.require(Problems.child(path, "sequences"), sequences)) p.positive(Problems.child(path, "sequences"), sequences);
        if (p.require(Problems.child(path, "seqLen"), seqLen)) p.positive(Problems.child(path, "seqLen"), seqLen);
    }

    /** Tokens one optimizer step consumes. */
    public long tokensPerStep() {
        return (long) sequences * seqLen;
    }
}
