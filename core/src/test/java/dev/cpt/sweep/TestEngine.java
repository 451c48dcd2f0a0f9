package dev.cpt.sweep;

import dev.cpt.plan.RunPlan;
import dev.cpt.train.Engine;
import dev.cpt.train.EngineFactory;
import dev.cpt.train.FunctionEngine;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The sweep tests' engines: the training loop's {@link FunctionEngine}, made per run with injected faults. */
final class TestEngine {
    private TestEngine() {}

    /** Makes test engines and remembers for which runs (by spec name) and with how many threads. */
    static final class Factory implements EngineFactory {
        final List<String> created = Collections.synchronizedList(new ArrayList<>());
        final List<Integer> threads = Collections.synchronizedList(new ArrayList<>());
        /** Spec name → the call at which that run's first engine crashes. */
        final Map<String, Integer> crashOnFirstUse = new ConcurrentHashMap<>();
        /** Spec name → the call from which that run's engines return a NaN loss. */
        final Map<String, Integer> nanFrom = new ConcurrentHashMap<>();

        @Override
        public Engine create(RunPlan plan, int threads) {
            created.add(plan.spec().name());
            this.threads.add(threads);
            FunctionEngine e = new FunctionEngine();
            Integer crash = crashOnFirstUse.remove(plan.spec().name());
            if (crash != null) e.crashAtCall = crash;
            e.nanFromCall = nanFrom.getOrDefault(plan.spec().name(), -1);
            return e;
        }
    }
}
