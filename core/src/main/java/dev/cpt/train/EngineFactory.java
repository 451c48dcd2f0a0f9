package dev.cpt.train;

import dev.cpt.plan.RunPlan;

/**
 * Builds the engine of one run, e.g. the simulator or the torch engine, for the run's model shape,
 * optimizer settings and seed. A sweep asks for one engine per variant it runs; calls may come
 * from several threads, one at a time.
 */
@FunctionalInterface
public interface EngineFactory {

    /** A fresh engine for {@code plan} that computes on at most {@code threads} threads (at least 1). */
    Engine create(RunPlan plan, int threads);
}
