package dev.cpt.sweep;

import dev.cpt.data.DataSources;
import dev.cpt.plan.RunPlan;
import java.io.IOException;

/**
 * Opens the token sources of one run of a sweep (the CLI opens a spec's files with
 * {@link dev.cpt.data.DataOpener} and shares what variants have in common). The runner calls it
 * once per run it is about to train, before any training starts, from one thread at a time.
 */
@FunctionalInterface
public interface DataProvider {
    DataSources open(RunPlan plan) throws IOException;
}
