package dev.cpt.reproduce;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cpt.record.Json;
import dev.cpt.spec.Problems;
import dev.cpt.spec.SpecException;
import dev.cpt.spec.SpecReader;
import dev.cpt.sweep.SweepSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reads an experiment's sweep spec at a scale and with seeds 1..N: every step count in it (stage
 * {@code steps}, schedule {@code warmupSteps}/{@code cooldownSteps}/{@code annealSteps}/
 * {@code decaySteps}, {@code eval.every}, {@code finalLoss.lastSteps}) is multiplied by
 * {@code scale} and rounded, so every phase keeps its share of the run; learning rates, fractions,
 * data and model are untouched. Scale 1 is the spec as written.
 */
public final class ScaledSweep {
    private ScaledSweep() {}

    private static final List<String> STEP_FIELDS = List.of("steps", "warmupSteps", "cooldownSteps", "annealSteps", "decaySteps");

    public static SweepSpec read(Path file, double scale, int seeds) {
        return read(file, scale, seeds, ModelScale.TOY_XS);
    }

    /**
     * As {@link #read(Path, double, int)} at a model scale: the base's model preset is the scale's,
     * the variants the scale leaves out are dropped, and a long-pre-training scale lengthens
     * pre-training (and the union baseline with it). The specs' own scale changes nothing.
     */
    public static SweepSpec read(Path file, double scale, int seeds, ModelScale model) {
        if (!(scale > 0) || Double.isInfinite(scale)) throw new IllegalArgumentException("scale must be positive, not " + scale);
        if (seeds < 1) throw new IllegalArgumentException("seeds must be at least 1, not " + seeds);
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(SpecReader.readText(file));
        } catch (IOException e) {
            throw new SpecException(file.toString(), List.of(new Problems.Problem("", "not JSON: " + e.getMessage())));
        }
        if (!(root instanceof ObjectNode sweep)) {
            throw new SpecException(file.toString(), List.of(new Problems.Problem("", "expected a sweep spec object")));
        }
        Path dir = file.toAbsolutePath().getParent();
        // The base inlined, so that its step counts scale with the variants'.
        if (sweep.get("base") instanceof JsonNode b && b.isTextual()) {
            Path baseFile = dir.resolve(b.asText());
            try {
                sweep.set("base", Json.MAPPER.readTree(SpecReader.readText(baseFile)));
            } catch (IOException e) {
                throw new SpecException(file.toString(), List.of(new Problems.Problem("base", baseFile + ": not JSON: " + e.getMessage())));
            }
        }
        if (!model.isFirst()) {
            if (!(sweep.get("base") instanceof ObjectNode base)) {
                throw new SpecException(file.toString(), List.of(new Problems.Problem("base", "expected a run spec to set the model preset of")));
            }
            base.putObject("model").put("preset", model.preset());
            if (sweep.get("variants") instanceof ObjectNode variants) {
                List<String> dropped = new java.util.ArrayList<>();
                variants.fieldNames().forEachRemaining(n -> { if (!model.keeps(n)) dropped.add(n); });
                variants.remove(dropped);
            }
            if (model.pretrainSteps() > 0) lengthenPretraining(file, sweep, model.pretrainSteps());
        }
        if (scale != 1) {
            scaleSteps(sweep.get("base"), scale);
            if (sweep.get("variants") instanceof ObjectNode variants) {
                for (JsonNode overrides : variants) {
                    if (!(overrides instanceof ObjectNode o)) continue;
                    for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
                        Map.Entry<String, JsonNode> e = it.next();
                        String last = e.getKey().replaceAll("\\[\\d+]$", "");
                        last = last.substring(last.lastIndexOf('.') + 1);
                        if (STEP_FIELDS.contains(last) && e.getValue().isIntegralNumber()) {
                            e.setValue(Json.MAPPER.getNodeFactory().numberNode(scaled(e.getValue().asLong(), scale)));
                        } else {
                            scaleSteps(e.getValue(), scale);
                        }
                    }
                }
            }
        }
        ArrayNode list = sweep.putArray("seeds");
        for (int s = 1; s <= seeds; s++) list.add(s);
        return SweepSpec.read(sweep.toString(), file.toString(), dir);
    }

    /**
     * Pre-training ({@code base.stages[0]}, which must be named {@code pretrain}) becomes {@code steps}
     * long; a variant that replaces the stages by one {@code pretrain} stage (D0 only) gets the same,
     * one that replaces them by a {@code union} stage (both stages' data from scratch) grows by as
     * many steps as pre-training did, so it stays compute-equivalent, and takes D0 in proportion: the
     * union of the data the sequential runs see (PAPER.md's D0 ∪ D1), each once, not D1 repeated to
     * half of a longer budget. Other stages keep their steps.
     */
    private static void lengthenPretraining(Path file, ObjectNode sweep, long steps) {
        JsonNode first = sweep.path("base").path("stages").path(0);
        if (!(first instanceof ObjectNode pretrain) || !"pretrain".equals(pretrain.path("name").asText())
                || !pretrain.path("steps").isIntegralNumber()) {
            throw new SpecException(file.toString(), List.of(new Problems.Problem("base.stages[0]",
                    "expected the pre-training stage (named \"pretrain\", with steps) to lengthen")));
        }
        long was = pretrain.get("steps").asLong();
        long added = steps - was;
        pretrain.put("steps", steps);
        // D0: the one dataset pre-training trains on
        String d0 = pretrain.get("mix") instanceof ObjectNode m && m.size() == 1 ? m.fieldNames().next() : null;
        if (!(sweep.get("variants") instanceof ObjectNode variants)) return;
        for (Iterator<Map.Entry<String, JsonNode>> it = variants.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> v = it.next();
            if (!(v.getValue().get("stages") instanceof ArrayNode stages) || stages.size() != 1
                    || !(stages.get(0) instanceof ObjectNode only) || !only.path("steps").isIntegralNumber()) continue;
            switch (only.path("name").asText()) {
                case "pretrain" -> only.put("steps", steps);
                case "union" -> {
                    only.put("steps", only.get("steps").asLong() + added);
                    if (only.get("mix") instanceof ObjectNode mix && d0 != null && mix.get(d0) instanceof JsonNode w && w.isNumber()) {
                        mix.put(d0, w.asDouble() * steps / was);
                        double sum = 0;
                        for (JsonNode x : mix) sum += x.asDouble();
                        for (Iterator<Map.Entry<String, JsonNode>> f = mix.fields(); f.hasNext(); ) {
                            Map.Entry<String, JsonNode> e = f.next();
                            e.setValue(mix.numberNode(e.getValue().asDouble() / sum));
                        }
                    }
                }
                default -> { }
            }
        }
    }

    static long scaled(long steps, double scale) {
        return Math.max(1, Math.round(steps * scale));
    }

    /** Scales the step counts inside {@code node}, a run spec or a part of one. */
    private static void scaleSteps(JsonNode node, double scale) {
        if (node instanceof ObjectNode o) {
            for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode v = e.getValue();
                if (STEP_FIELDS.contains(e.getKey()) && v.isIntegralNumber()) {
                    e.setValue(o.numberNode(scaled(v.asLong(), scale)));
                } else {
                    scaleSteps(v, scale);
                }
            }
            if (o.get("eval") instanceof ObjectNode eval && eval.get("every") instanceof JsonNode every && every.isIntegralNumber()) {
                // Not below 10 steps (unless written so): evaluating is not free.
                eval.put("every", Math.max(Math.min(every.asLong(), 10), scaled(every.asLong(), scale)));
            }
            if (o.get("finalLoss") instanceof ObjectNode fl && fl.get("lastSteps") instanceof JsonNode last && last.isIntegralNumber()
                    && fl.get("every") instanceof JsonNode every && every.isIntegralNumber()) {
                // Whole multiples of the sampling interval, at least one sample.
                long e = every.asLong();
                fl.put("lastSteps", Math.max(e, Math.round(last.asLong() * scale / e) * e));
            }
        } else if (node instanceof ArrayNode a) {
            for (JsonNode v : a) scaleSteps(v, scale);
        }
    }

    /** Whether {@code dir} holds every experiment's sweep file. */
    public static boolean hasAll(Path dir) {
        return Experiment.ALL.stream().allMatch(e -> Files.isRegularFile(dir.resolve(e.file())));
    }
}
