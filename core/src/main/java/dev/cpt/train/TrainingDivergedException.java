package dev.cpt.train;

/** A non-finite loss or gradient norm: the run stops; its last good checkpoint is kept. */
public final class TrainingDivergedException extends RuntimeException {
    public TrainingDivergedException(String message) {
        super(message);
    }
}
