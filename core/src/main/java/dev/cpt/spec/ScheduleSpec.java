package dev.cpt.spec;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.cpt.schedule.Schedule;

/**
 * A learning-rate or weight-decay schedule as written in a spec, before it is bound to a span.
 * The {@code type} field picks the kind; each kind's fields are in its record.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = ScheduleSpec.Constant.class, name = "constant"),
    @JsonSubTypes.Type(value = ScheduleSpec.Cosine.class, name = "cosine"),
    @JsonSubTypes.Type(value = ScheduleSpec.Linear.class, name = "linear"),
    @JsonSubTypes.Type(value = ScheduleSpec.Infinite.class, name = "infinite"),
    @JsonSubTypes.Type(value = ScheduleSpec.Wsd.class, name = "wsd"),
    @JsonSubTypes.Type(value = ScheduleSpec.Piecewise.class, name = "piecewise"),
})
public sealed interface ScheduleSpec permits ScheduleSpec.Constant, ScheduleSpec.Cosine, ScheduleSpec.Linear,
        ScheduleSpec.Infinite, ScheduleSpec.Wsd, ScheduleSpec.Piecewise, ScheduleSpec.Unreadable {

    String TYPES = "constant, cosine, linear, infinite, wsd, piecewise";

    /** Checks what can be checked without knowing the span's length. */
    void validate(String path, Problems problems);

    /** Resolves phase lengths against a span of {@code span} steps; null (with problems added) if impossible. */
    Schedule bind(long span, String path, Problems problems);

    // ---------------------------------------------------------------------------------------

    /**
     * Stands in for a schedule whose {@code type} is missing or unknown, so that reading can go on
     * and report the rest of the spec; that problem is already reported, so it adds none.
     */
    @com.fasterxml.jackson.annotation.JsonIgnoreProperties(ignoreUnknown = true)
    record Unreadable() implements ScheduleSpec {
        @Override
        public void validate(String path, Problems p) {}

        @Override
        public Schedule bind(long span, String path, Problems p) {
            return null;
        }
    }

    record Constant(Double value) implements ScheduleSpec {
        @Override
        public void validate(String path, Problems p) {
            if (p.require(Problems.child(path, "value"), value)) p.finite(Problems.child(path, "value"), value);
        }

        @Override
        public Schedule bind(long span, String path, Problems p) {
            return new dev.cpt.schedule.ConstantSchedule(value, span);
        }
    }

    record Cosine(Double max, Double min, Double warmup, Long warmupSteps, Double warmupFrom) implements ScheduleSpec {
        public Cosine {
            if (warmupFrom == null) warmupFrom = 0.0;
        }

        @Override
        public void validate(String path, Problems p) {
            Values.maxMin(path, max, min, p);
            p.nonNegative(Problems.child(path, "warmupFrom"), warmupFrom);
            PhaseLength.validate(path, "warmup", warmup, warmupSteps, false, p);
        }

        @Override
        public Schedule bind(long span, String path, Problems p) {
            long w = PhaseLength.steps(warmup, warmupSteps, span);
            if (!PhaseLength.fit(path, span, p, new String[] {"warmup"}, w)) return null;
            return new dev.cpt.schedule.CosineSchedule(max, min, w, warmupFrom, span);
        }
    }

    record Linear(Double max, Double min, Double warmup, Long warmupSteps, Double warmupFrom) implements ScheduleSpec {
        public Linear {
            if (warmupFrom == null) warmupFrom = 0.0;
        }

        @Override
        public void validate(String path, Problems p) {
            Values.maxMin(path, max, min, p);
            p.nonNegative(Problems.child(path, "warmupFrom"), warmupFrom);
            PhaseLength.validate(path, "warmup", warmup, warmupSteps, false, p);
        }

        @Override
        public Schedule bind(long span, String path, Problems p) {
            long w = PhaseLength.steps(warmup, warmupSteps, span);
            if (!PhaseLength.fit(path, span, p, new String[] {"warmup"}, w)) return null;
            return new dev.cpt.schedule.LinearSchedule(max, min, w, warmupFrom, span);
        }
    }

    enum CooldownShape {
        @com.fasterxml.jackson.annotation.JsonProperty("cosine") COSINE,
        @com.fasterxml.jackson.annotation.JsonProperty("invsqrt") INVSQRT
    }

    record Infinite(Double max, @com.fasterxml.jackson.annotation.JsonProperty("const") Double constant, Double min,
                    Double warmup, Long warmupSteps, Double cooldown, Long cooldownSteps,
                    Double anneal, Long annealSteps, CooldownShape cooldownShape, Double alpha,
                    Double warmupFrom) implements ScheduleSpec {
        public Infinite {
            if (cooldownShape == null) cooldownShape = CooldownShape.COSINE;
            if (alpha == null) alpha = 1.0;
            if (warmupFrom == null) warmupFrom = 0.0;
        }

        @Override
        public void validate(String path, Problems p) {
            Values.maxMin(path, max, min, p);
            String constPath = Problems.child(path, "const");
            if (p.require(constPath, constant)) {
                p.positive(constPath, constant);
                if (max != null && min != null && constant > 0 && !(constant <= max && constant >= min)) {
                    p.add(constPath, Problems.format(constant) + " must lie between min " + Problems.format(min)
                            + " and max " + Problems.format(max));
                }
            }
            if (min != null && !(min > 0)) {
                p.add(Problems.child(path, "min"), "must be positive: the anneal is exponential, const·(min/const)^x");
            }
            p.positive(Problems.child(path, "alpha"), alpha);
            p.nonNegative(Problems.child(path, "warmupFrom"), warmupFrom);
            PhaseLength.validate(path, "warmup", warmup, warmupSteps, false, p);
            PhaseLength.validate(path, "cooldown", cooldown, cooldownSteps, true, p);
            PhaseLength.validate(path, "anneal", anneal, annealSteps, false, p);
        }

        @Override
        public Schedule bind(long span, String path, Problems p) {
            long w = PhaseLength.steps(warmup, warmupSteps, span);
            long c = PhaseLength.steps(cooldown, cooldownSteps, span);
            long a = PhaseLength.steps(anneal, annealSteps, span);
            if (!PhaseLength.fit(path, span, p, new String[] {"warmup", "cooldown", "anneal"}, w, c, a)) return null;
            var shape = cooldownShape == CooldownShape.COSINE
                    ? dev.cpt.schedule.InfiniteSchedule.CooldownShape.COSINE
                    : dev.cpt.schedule.InfiniteSchedule.CooldownShape.INVSQRT;
            return new dev.cpt.schedule.InfiniteSchedule(max, constant, min, w, c, a, shape, alpha, warmupFrom, span);
        }
    }

    enum DecayShape {
        @com.fasterxml.jackson.annotation.JsonProperty("linear") LINEAR,
        @com.fasterxml.jackson.annotation.JsonProperty("cosine") COSINE,
        @com.fasterxml.jackson.annotation.JsonProperty("sqrt") SQRT
    }

    record Wsd(Double max, Double min, Double warmup, Long warmupSteps, Double decay, Long decaySteps,
               DecayShape decayShape, Double warmupFrom) implements ScheduleSpec {
        public Wsd {
            if (decayShape == null) decayShape = DecayShape.LINEAR;
            if (warmupFrom == null) warmupFrom = 0.0;
        }

        @Override
        public void validate(String path, Problems p) {
            Values.maxMin(path, max, min, p);
            p.nonNegative(Problems.child(path, "warmupFrom"), warmupFrom);
            PhaseLength.validate(path, "warmup", warmup, warmupSteps, false, p);
            PhaseLength.validate(path, "decay", decay, decaySteps, true, p);
        }

        @Override
        public Schedule bind(long span, String path, Problems p) {
            long w = PhaseLength.steps(warmup, warmupSteps, span);
            long d = PhaseLength.steps(decay, decaySteps, span);
            if (!PhaseLength.fit(path, span, p, new String[] {"warmup", "decay"}, w, d)) return null;
            var shape = switch (decayShape) {
                case LINEAR -> dev.cpt.schedule.Decay.LINEAR;
                case COSINE -> dev.cpt.schedule.Decay.COSINE;
                case SQRT -> dev.cpt.schedule.Decay.SQRT;
            };
            return new dev.cpt.schedule.WsdSchedule(max, min, w, d, shape, warmupFrom, span);
        }
    }

    record Piece(Double until, Long untilStep, Double value) {}

    record Piecewise(java.util.List<Piece> pieces) implements ScheduleSpec {
        @Override
        public void validate(String path, Problems p) {
            String piecesPath = Problems.child(path, "pieces");
            if (!p.require(piecesPath, pieces)) return;
            if (pieces.isEmpty()) p.add(piecesPath, "needs at least one piece");
            for (int i = 0; i < pieces.size(); i++) {
                String at = Problems.index(piecesPath, i);
                Piece piece = pieces.get(i);
                if (piece == null) {
                    p.addUnlessCovered(at, "missing");
                    continue;
                }
                if (p.require(Problems.child(at, "value"), piece.value())) p.finite(Problems.child(at, "value"), piece.value());
                if (piece.until() != null && piece.untilStep() != null) {
                    p.add(Problems.child(at, "until"), "give until (a fraction of the span) or untilStep, not both");
                } else if (piece.until() == null && piece.untilStep() == null
                        && !p.coveredBy(Problems.child(at, "untilStep"))) {
                    p.addUnlessCovered(Problems.child(at, "until"), "missing: give until (a fraction of the span) or untilStep");
                }
                p.positive(Problems.child(at, "until"), piece.until());
                p.positive(Problems.child(at, "untilStep"), piece.untilStep());
            }
        }

        @Override
        public Schedule bind(long span, String path, Problems p) {
            String piecesPath = Problems.child(path, "pieces");
            long[] until = new long[pieces.size()];
            double[] values = new double[pieces.size()];
            boolean ok = true;
            for (int i = 0; i < pieces.size(); i++) {
                Piece piece = pieces.get(i);
                until[i] = piece.untilStep() != null ? piece.untilStep() : PhaseLength.ceilSteps(piece.until(), span);
                values[i] = piece.value();
                if (i > 0 && until[i] <= until[i - 1]) {
                    p.add(Problems.index(piecesPath, i), "ends at step " + until[i] + ", not after the previous piece's "
                            + until[i - 1] + " (pieces must be in increasing order)");
                    ok = false;
                }
            }
            if (until.length > 0 && until[until.length - 1] < span) {
                p.add(Problems.index(piecesPath, until.length - 1), "the last piece ends at step " + until[until.length - 1]
                        + " but the span has " + span + " steps: it must reach the end (until 1.0)");
                ok = false;
            }
            return ok ? new dev.cpt.schedule.PiecewiseSchedule(until, values, span) : null;
        }
    }
}
