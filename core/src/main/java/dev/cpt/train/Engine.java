package dev.cpt.train;

import dev.cpt.data.Batch;
import java.io.IOException;
import java.nio.file.Path;

/**
 * What differs between the simulator and the torch engine; everything else (schedules, data,
 * evaluation, checkpoints, records) is the {@link TrainingLoop}'s. An engine is built for one run
 * (model shape, optimizer settings, seed) before the loop starts.
 */
public interface Engine extends AutoCloseable {

    /** One optimizer step on {@code batch} at learning rate {@code lr} and decoupled weight decay {@code weightDecay}. */
    StepResult trainStep(Batch batch, double lr, double weightDecay);

    /** Mean next-token cross-entropy (nats) on {@code batch}; no state changes. */
    double evalLoss(Batch batch);

    /** Forgets the optimizer's moments (PAPER.md resets them at each dataset boundary). */
    void resetOptimizer();

    /** Writes model and optimizer state into the (existing, empty) directory {@code dir}. */
    void save(Path dir) throws IOException;

    /** Restores what {@link #save} wrote. */
    void load(Path dir) throws IOException;

    EngineInfo info();

    @Override
    default void close() {}

    /** Training loss on the step's batch (before the update) and the gradient norm before clipping. */
    record StepResult(double loss, double gradNorm) {}

    /** @param flopsPerToken training FLOPs per token (6N + 12·L·H·Q·T) */
    record EngineInfo(String name, long parameters, double flopsPerToken) {}
}
