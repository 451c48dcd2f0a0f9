package dev.cpt.spec;

/**
 * A batch of {@code sequences} rows of {@code seqLen} tokens (each row also needs its next-token
 * targets). {@code microBatch} rows go through the model at once, with gradients accumulated over
 * {@code sequences / microBatch} of them per optimizer step; it changes memory, never the
 * update (the simulator always takes the whole batch at once). Absent means the whole batch.
 */
public record BatchSpec(Integer sequences, Integer seqLen, Integer microBatch) {

    public void validate(String path, Problems p) {
        if (p.require(Problems.child(path, "sequences"), sequences)) p.positive(Problems.child(path, "sequences"), sequences);
        if (p.require(Problems.child(path, "seqLen"), seqLen)) p.positive(Problems.child(path, "seqLen"), seqLen);
        p.positive(Problems.child(path, "microBatch"), microBatch);
        if (microBatch != null && microBatch > 0 && sequences != null && sequences > 0 && sequences % microBatch != 0) {
            p.add(Problems.child(path, "microBatch"), "microBatch " + microBatch + " does not divide sequences " + sequences);
        }
    }

    /** Tokens one optimizer step consumes. */
    public long tokensPerStep() {
        return (long) sequences * seqLen;
    }

    /** Rows per forward/backward pass; call only on a validated spec. */
    public int microBatchSequences() {
        return microBatch != null ? microBatch : sequences;
    }

    /** Forward/backward passes per optimizer step; call only on a validated spec. */
    public int accumulationSteps() {
        return sequences / microBatchSequences();
    }
}
