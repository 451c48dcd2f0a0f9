package dev.cpt.cli;

import dev.cpt.data.DataOpener;
import dev.cpt.data.DataSources;
import dev.cpt.sim.SimEngine;
import dev.cpt.sweep.DataProvider;
import dev.cpt.train.EngineFactory;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** The engines the CLI can build, and data opened for them. */
final class Engines {
    private Engines() {}

    /** The engines by name ({@code --engine}); the torch engine joins when it is built. */
    enum Kind {
        sim;

        EngineFactory factory() {
            return (plan, threads) -> SimEngine.create(plan.spec(), threads);
        }
    }

    /**
     * Opens a run's data with relative paths against the working directory; variants of a sweep
     * that name the same files share one opening (the files are memory-mapped, not copied).
     */
    static DataProvider dataProvider() {
        return dataProvider(Path.of(""));
    }

    /** As {@link #dataProvider()}, with relative paths against {@code base}. */
    static DataProvider dataProvider(Path base) {
        Map<String, DataSources> opened = new HashMap<>();
        Path cwd = base.toAbsolutePath();
        return plan -> {
            try {
                String key = dev.cpt.record.Json.MAPPER.writeValueAsString(plan.spec().datasets()) + "|" + plan.spec().model().shape().vocabSize();
                return opened.computeIfAbsent(key, k -> DataOpener.open(plan.spec(), cwd));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        };
    }
}
