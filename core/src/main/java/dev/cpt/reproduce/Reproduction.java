package dev.cpt.reproduce;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cpt.metrics.RunSummary;
import dev.cpt.record.AtomicFiles;
import dev.cpt.record.Json;
import dev.cpt.report.VariantResult;
import dev.cpt.sweep.DataProvider;
import dev.cpt.sweep.SharedStages;
import dev.cpt.sweep.SweepListener;
import dev.cpt.sweep.SweepResult;
import dev.cpt.sweep.SweepRunner;
import dev.cpt.sweep.SweepSpec;
import dev.cpt.train.EngineFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the paper's experiments ({@code examples/paper/*.json}, {@link Experiment#ALL}) as sweeps
 * into {@code OUT/<experiment>/}, judges the claims and writes {@code OUT/report.md}.
 *
 * <p>A run identical to one an earlier experiment finished (the same spec but for its name: the
 * union and D1-only baselines, the recipe, replay 0%) is not trained again: its records are copied,
 * which gives the very numbers a new run would (runs are deterministic). A rerun skips what is
 * finished and resumes what was interrupted (the sweep runner's rules).
 */
public final class Reproduction {
    private Reproduction() {}

    /**
     * @param scale   multiplies every step count of the specs ({@link ScaledSweep}); 1 = as written
     * @param seeds   seeds 1..N of every run
     * @param jobs    runs at once
     * @param only    experiment ids to run (empty: all); the report judges what it has
     * @param models  the model scales to run ({@link ModelScale#KNOWN}; by default {@link ModelScale#ALL})
     * @param command the command line, for the report
     */
    public record Options(double scale, int seeds, int jobs, List<String> only, List<ModelScale> models, String command) {
        public Options {
            if (models.isEmpty()) throw new IllegalArgumentException("no model scale to run");
        }

        public Options(double scale, int seeds, int jobs, List<String> only, String command) {
            this(scale, seeds, jobs, only, ModelScale.ALL, command);
        }

        /**
         * Whether C14 and the transfer table are measured: they compare {@code toy-xs} with {@code toy-s}
         * at the same budgets, so both must run (the long-pre-training scales have other budgets).
         */
        public boolean comparesScales() {
            return models.contains(ModelScale.TOY_XS) && models.contains(ModelScale.TOY_S);
        }
    }

    /** One experiment at one model scale, as it runs: its sweep spec read at the options' step scale and seeds. */
    public record Part(Experiment experiment, ModelScale model, SweepSpec sweep) {
        /** {@code rewarm}, {@code toy-s/rewarm}: its directory under OUT and its key in {@link Outcomes}. */
        public String key() {
            return model.key(experiment.id());
        }
    }

    /** Per experiment, what to tell the user while it runs. */
    public interface Listener {
        /** Before the first part runs: what every part has left to train ({@link Workload}). */
        default void started(Workload work) {}

        /** The experiment is about to run at a scale; the returned listener follows its sweep. */
        SweepListener experimentStarted(Part part, int reused);

        default void experimentFinished(Part part, SweepResult result) {}
    }

    /**
     * @param claims   per model scale run, C1–C13 as measured there (claims a scale does not run are absent)
     * @param c14      C14, toy-s against toy-xs; null unless both ran ({@link Options#comparesScales})
     * @param transfer the rankings across toy-xs and toy-s; empty unless both ran
     */
    public record Result(Path report, Map<ModelScale, List<Claim.Result>> claims, Claim.Result c14, List<Transfer.Row> transfer,
                         List<String> failures) {
        public boolean ok() {
            return failures.isEmpty();
        }
    }

    /** Reads (and so validates) every experiment's sweep at every scale, before anything runs. */
    public static List<Part> read(Path specs, Options o) {
        List<Part> parts = new ArrayList<>();
        for (ModelScale m : o.models()) {
            for (Experiment e : Experiment.ALL) {
                if (!o.only().isEmpty() && !o.only().contains(e.id())) continue;
                if (!m.runs(e.id())) continue;
                parts.add(new Part(e, m, ScaledSweep.read(specs.resolve(e.file()), o.scale(), o.seeds(), m)));
            }
        }
        return parts;
    }

    public static Result run(Path specs, Path out, Options o, EngineFactory engines, DataProvider data, Listener listener)
            throws IOException {
        return run(specs, out, o, engines, data, listener, SharedStages.create());
    }

    /**
     * As {@link #run(Path, Path, Options, EngineFactory, DataProvider, Listener)}, with {@code shared}
     * passed to every experiment's sweep: runs that agree up to a stage end train it once across all
     * experiments ({@link SharedStages#none()}: every run trains every step).
     */
    public static Result run(Path specs, Path out, Options o, EngineFactory engines, DataProvider data, Listener listener,
                             SharedStages shared) throws IOException {
        for (String id : o.only()) Experiment.byId(id);
        List<Part> parts = read(specs, o);
        long start = System.nanoTime();
        Files.createDirectories(out);
        listener.started(Workload.of(parts, out, shared.enabled()));

        Map<String, Path> finished = new HashMap<>(); // spec without its name → a finished run's directory
        Outcomes outcomes = new Outcomes();
        Map<Part, List<VariantResult>> results = new LinkedHashMap<>();
        List<String> failures = new ArrayList<>();
        for (Part part : parts) {
            SweepSpec sweep = part.sweep();
            Path dir = out.resolve(part.key());
            int reused = 0;
            for (SweepSpec.Variant v : sweep.variants()) {
                Path from = finished.get(key(v));
                Path to = SweepRunner.runDir(dir, v.name());
                if (from != null && !Files.exists(to.resolve("summary.json")) && !Files.exists(to.resolve("spec.json"))) {
                    copyFinished(from, to, v);
                    reused++;
                }
            }
            SweepResult result = SweepRunner.run(sweep, dir, o.jobs(), engines, data, listener.experimentStarted(part, reused), shared);
            listener.experimentFinished(part, result);
            for (int i = 0; i < sweep.variants().size(); i++) {
                VariantResult r = result.variants().get(i);
                if (r.summary() != null) finished.putIfAbsent(key(sweep.variants().get(i)), SweepRunner.runDir(dir, r.name()));
                else failures.add(part.key() + "/" + r.name() + ": " + r.error());
            }
            outcomes.add(part.key(), result.variants());
            results.put(part, result.variants());
        }
        Map<ModelScale, List<Claim.Result>> claims = new LinkedHashMap<>();
        for (ModelScale m : o.models()) {
            List<Claim.Result> measured = Claims.all(m).stream().filter(c -> m.judges(c.id())).map(c -> c.measure(outcomes)).toList();
            // Elsewhere only the claims a scale has runs for; the specs' own scale shows every claim.
            claims.put(m, m.isFirst() ? measured : measured.stream().filter(Claims::measuredAnything).toList());
        }
        Claim.Result c14 = null;
        List<Transfer.Row> transfer = List.of();
        if (o.comparesScales()) {
            c14 = Claims.c14(ModelScale.TOY_XS, ModelScale.TOY_S).measure(outcomes);
            transfer = Transfer.rows(outcomes, ModelScale.TOY_XS, ModelScale.TOY_S);
        }
        double minutes = (System.nanoTime() - start) / 60e9;
        Path report = ReproductionReport.write(out, o, results, outcomes, claims, c14, transfer, failures, minutes, shared.savedSteps());
        return new Result(report, claims, c14, transfer, failures);
    }

    /** What makes two runs the same run: the spec without its name. */
    static String key(SweepSpec.Variant v) {
        ObjectNode spec = Json.MAPPER.valueToTree(v.spec());
        spec.remove("name");
        return spec.toString();
    }

    /** Copies a finished run's records into {@code to} as {@code v}'s own (spec and summary carry its name). */
    static void copyFinished(Path from, Path to, SweepSpec.Variant v) throws IOException {
        Files.createDirectories(to);
        AtomicFiles.write(to.resolve("metrics.jsonl"), w -> Files.copy(from.resolve("metrics.jsonl"), w));
        RunSummary s = Json.MAPPER.readValue(from.resolve("summary.json").toFile(), RunSummary.class);
        RunSummary renamed = new RunSummary(v.spec().name(), s.steps(), s.tokens(), s.datasets(), s.averageFinalLoss(),
                s.finalLossWindow(), s.wallSeconds(), s.tasks());
        AtomicFiles.writeJson(to.resolve("spec.json"), v.spec());
        JsonNode note = Json.MAPPER.createObjectNode().put("copiedFrom", from.toAbsolutePath().normalize().toString());
        AtomicFiles.writeJson(to.resolve("reused.json"), note);
        // The summary last: it is what marks the run finished.
        AtomicFiles.writeJson(to.resolve("summary.json"), renamed);
    }
}
