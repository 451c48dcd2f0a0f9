package dev.cpt.record;

import dev.cpt.data.SamplerState;

/**
 * What a checkpoint holds besides the engine's state: the step it was taken at (updates done),
 * the sampler's position, and, for a stage-end checkpoint, that stage's name.
 */
public record LoopState(long step, SamplerState sampler, String stageEnd) {}
