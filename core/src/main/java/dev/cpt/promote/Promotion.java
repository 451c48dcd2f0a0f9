package dev.cpt.promote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cpt.plan.RunPlan;
import dev.cpt.plan.Stage;
import dev.cpt.record.Json;
import dev.cpt.spec.RunSpec;
import dev.cpt.spec.SpecReader;
import dev.cpt.spec.StageSpec;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a simulator run's spec into the full-scale spec of the same experiment (PAPER.md §1): the
 * same stages, data mixtures, replay, optimizer resets and schedule shapes; the model, budgets and
 * batch of the real run; the paper's optimizer.
 *
 * <p>Learning rates keep their ratios to the run's peak: every rate of a schedule ({@code max},
 * {@code min}, {@code const}, a constant's {@code value}) is multiplied by the model's η_max
 * (PAPER.md: 3e-4 for 405M, 1.2e-4 for 10B) over the simulator run's reference η_max, the largest
 * rate of its first stage. So a toy sweep at η_max 3e-3 whose winner re-warmed to 2× (6e-3)
 * promotes to 6e-4 on 405M. Phases given in steps become the same fraction of their stage (of the
 * run, for a run-level schedule), since step counts do not carry over; weight decay values are
 * coefficients and stay.
 */
public final class Promotion {
    private Promotion() {}

    /** η_max of PAPER.md per model preset (lbs-7b: SlimPajama-DC's 1.8e-4, PAPER.md §2). */
    public static final Map<String, Double> PAPER_MAX_LR = Map.of("405m", 3e-4, "10b", 1.2e-4, "lbs-7b", 1.8e-4);

    /**
     * @param model      {@code 405m}, {@code 10b} or {@code lbs-7b}
     * @param tokens     each stage's budget, keyed by its name or by the one dataset it trains on
     * @param sequences  sequences per step (PAPER.md: 1104)
     * @param seqLen     tokens per sequence (2048)
     * @param microBatch sequences per forward/backward pass
     * @param data       dataset name → directory with train.bin and val.bin (as {@code cpt prepare} writes)
     * @param evalEvery  steps between evaluations
     */
    public record Options(String model, Map<String, Long> tokens, int sequences, int seqLen, int microBatch,
                          Map<String, String> data, long evalEvery) {

        public static Options paper(String model, Map<String, Long> tokens, Map<String, String> data) {
            return new Options(model, tokens, 1104, 2048, model.equals("405m") ? 4 : 1, data, 1000);
        }
    }

    /** The promoted spec, its JSON, the factor the rates were multiplied by, and what the user should know. */
    public record Result(RunSpec spec, ObjectNode json, double referenceMaxLr, double lrFactor, List<String> notes) {}

    public static Result promote(RunSpec source, Options o) {
        Double paperMax = PAPER_MAX_LR.get(o.model());
        if (paperMax == null) {
            throw new IllegalArgumentException("model \"" + o.model() + "\": promote to one of " + String.join(", ", PAPER_MAX_LR.keySet()));
        }
        RunPlan sourcePlan = RunPlan.of(source);
        Stage first = sourcePlan.stages().getFirst();
        double reference = 0;
        for (long t = first.start(); t < first.end(); t++) reference = Math.max(reference, sourcePlan.lrAt(t));
        reference = rate(reference); // the schedule's arithmetic can leave 3.0000000000000005E-3
        if (!(reference > 0)) throw new IllegalArgumentException("the run's first stage never has a positive learning rate");
        double k = paperMax / reference;
        List<String> notes = new ArrayList<>();

        ObjectNode spec = Json.MAPPER.valueToTree(source);
        spec.put("name", source.name().replace('/', '-') + "-" + o.model());
        ObjectNode model = spec.putObject("model");
        model.put("preset", o.model());
        ObjectNode optimizer = spec.putObject("optimizer");
        optimizer.put("beta1", 0.9).put("beta2", 0.95).put("eps", 1e-8).put("gradClip", 1.0);
        ObjectNode batch = spec.putObject("batch");
        batch.put("sequences", o.sequences()).put("seqLen", o.seqLen()).put("microBatch", o.microBatch());
        spec.putObject("eval").put("every", o.evalEvery()).put("batches", 8);
        spec.putObject("finalLoss").put("lastSteps", 100).put("every", 10);
        spec.remove("checkpoint");

        // Data: the given directories; the sweep's own files (toy corpora) only with a warning.
        ObjectNode datasets = (ObjectNode) spec.get("datasets");
        java.util.Set<String> trained = new java.util.TreeSet<>();
        for (StageSpec st : source.stages()) {
            trained.addAll(st.mix().keySet());
            if (st.replay() != null && st.replay().from() != null) trained.addAll(st.replay().from().keySet());
        }
        List<String> unmapped = new ArrayList<>();
        List<String> dropped = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = datasets.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String dir = o.data().get(e.getKey());
            ObjectNode d = (ObjectNode) e.getValue();
            if (dir == null && !trained.contains(e.getKey())) {
                dropped.add(e.getKey()); // only evaluated in the sweep (another variant's data)
                it.remove();
                continue;
            }
            if (dir == null) {
                unmapped.add(e.getKey());
                continue;
            }
            boolean domains = d.has("domains") || d.has("domainPreset");
            String base = dir.endsWith("/") ? dir.substring(0, dir.length() - 1) : dir;
            d.put("train", base + (domains ? "/{domain}" : "") + "/train.bin");
            d.put("val", base + (domains ? "/{domain}" : "") + "/val.bin");
        }
        if (!dropped.isEmpty()) {
            notes.add("left out " + String.join(", ", dropped) + ": no stage trains on or replays it (give --data to evaluate on it anyway)");
        }
        for (String name : o.data().keySet()) {
            if (!source.datasets().containsKey(name)) {
                throw new IllegalArgumentException("--data " + name + ": the run has no dataset \"" + name + "\"; it has "
                        + String.join(", ", source.datasets().keySet()));
            }
        }
        if (!unmapped.isEmpty()) {
            notes.add("datasets " + String.join(", ", unmapped) + " still name the simulator run's files; give --data NAME=DIR for the full-scale data");
        }

        // Rates: scaled to the model's η_max; step-valued phases as fractions.
        if (spec.get("lr") instanceof ObjectNode lr) promoteSchedule(lr, k, sourcePlan.totalSteps(), true);
        if (spec.get("weightDecay") instanceof ObjectNode wd) promoteSchedule(wd, 1, sourcePlan.totalSteps(), false);
        ArrayNode stages = (ArrayNode) spec.get("stages");
        Map<String, Long> unused = new LinkedHashMap<>(o.tokens());
        for (int i = 0; i < stages.size(); i++) {
            ObjectNode st = (ObjectNode) stages.get(i);
            StageSpec ss = source.stages().get(i);
            long steps = sourcePlan.stages().get(i).steps();
            if (st.get("lr") instanceof ObjectNode lr) promoteSchedule(lr, k, steps, true);
            if (st.get("weightDecay") instanceof ObjectNode wd) promoteSchedule(wd, 1, steps, false);
            Long budget = o.tokens().get(ss.name());
            String key = ss.name();
            if (budget == null && ss.mix().size() == 1) {
                key = ss.mix().keySet().iterator().next();
                budget = o.tokens().get(key);
            }
            if (budget == null) {
                throw new IllegalArgumentException("no token budget for stage \"" + ss.name() + "\" (mix " + ss.mix().keySet()
                        + "): give --tokens " + ss.name() + "=N" + (ss.mix().size() == 1 ? " or " + key + "=N" : ""));
            }
            unused.remove(key);
            st.remove("steps");
            st.put("tokens", budget);
        }
        if (!unused.isEmpty()) {
            throw new IllegalArgumentException("--tokens " + String.join(", ", unused.keySet()) + ": no stage is named so or trains on that "
                    + "dataset alone; stages: " + String.join(", ", source.stages().stream().map(StageSpec::name).toList()));
        }
        RunSpec promoted = SpecReader.read(spec.toString(), "the promoted spec");
        RunPlan.of(promoted, "the promoted spec"); // budgets make whole steps
        return new Result(promoted, spec, reference, k, notes);
    }

    private static final Map<String, String> STEP_PHASES = Map.of("warmupSteps", "warmup", "cooldownSteps", "cooldown",
            "annealSteps", "anneal", "decaySteps", "decay");

    /** A scaled rate to 12 significant digits, so that 3e-3 × 0.1 reads 3.0E-4, not 2.999999999999999E-4. */
    static double rate(double v) {
        return new java.math.BigDecimal(v).round(new java.math.MathContext(12)).doubleValue();
    }

    private static void promoteSchedule(ObjectNode s, double k, long scopeSteps, boolean rates) {
        if (rates) {
            for (String f : List.of("max", "min", "const", "value", "warmupFrom")) {
                if (s.get(f) instanceof JsonNode v && v.isNumber()) s.put(f, rate(v.asDouble() * k));
            }
        }
        for (var e : STEP_PHASES.entrySet()) {
            if (s.get(e.getKey()) instanceof JsonNode v && v.isNumber()) {
                s.remove(e.getKey());
                s.put(e.getValue(), v.asDouble() / scopeSteps);
            }
        }
        if (s.get("pieces") instanceof ArrayNode pieces) {
            for (JsonNode p : pieces) {
                ObjectNode piece = (ObjectNode) p;
                if (rates && piece.get("value") instanceof JsonNode v && v.isNumber()) piece.put("value", rate(v.asDouble() * k));
                if (piece.get("untilStep") instanceof JsonNode u && u.isNumber()) {
                    piece.remove("untilStep");
                    piece.put("until", u.asDouble() / scopeSteps);
                }
            }
        }
    }
}
