package dev.cpt.schedule;

/**
 * A value (learning rate or weight decay) as a function of the step index {@code t} within a
 * span of {@link #span()} steps. {@code t} is 0-based: the first update of the span uses
 * {@code at(0)}, the last uses {@code at(span() - 1)}. Decays reach their end value at
 * {@code t = span()}, one past the last update, as the formulas of PAPER.md have it.
 */
public interface Schedule {

    double at(long t);

    long span();
}
