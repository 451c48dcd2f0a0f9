package dev.cpt.metrics;

import java.util.Map;

/** Validation losses by dataset on the model after {@code step} updates. */
public record EvalPoint(long step, Map<String, Double> val) {}
