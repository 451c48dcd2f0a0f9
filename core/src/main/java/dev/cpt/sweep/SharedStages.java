package dev.cpt.sweep;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cpt.plan.RunPlan;
import dev.cpt.plan.Stage;
import dev.cpt.record.AtomicFiles;
import dev.cpt.record.Json;
import dev.cpt.record.LoopState;
import dev.cpt.record.RunDirectory;
import dev.cpt.record.StepRecord;
import dev.cpt.metrics.RunSummary;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Stage ends that runs can start from instead of training the same steps again.
 *
 * <p>Two runs with the same seed whose specs agree on everything that shapes their first {@code k+1}
 * stages (model, optimizer, batch, datasets, evaluation, those stages' mixes, replay and resets, and
 * the learning rate and weight decay of every step up to the end of stage {@code k}) train bit for
 * bit the same steps up to that stage's end: the sampler, the engine's initialisation and the
 * schedules are all functions of those alone, and the engines do not depend on thread counts. So a
 * run may begin from the other's stage-end checkpoint, with that run's records up to the boundary as
 * its own; the training loop then resumes it as it resumes any run, which is exact. {@link #keys}
 * is that agreement made a string per stage.
 *
 * <p>One registry is valid for one engine factory: a reproduction passes the same registry to each
 * of its sweeps, so that its experiments share their pre-training too.
 */
public final class SharedStages {
    /** Written into a run directory that started from another run's stage end. */
    public static final String SHARED_JSON = "shared.json";

    /** A stage-end checkpoint a run can start from. */
    public record Source(Path runDir, Path checkpoint, String stage, long step) {}

    /** What {@code shared.json} holds. */
    public record Note(String from, String stage, long step) {}

    private final boolean enabled;
    private final Map<String, Source> available = new ConcurrentHashMap<>();
    private final AtomicLong savedSteps = new AtomicLong();

    private SharedStages(boolean enabled) {
        this.enabled = enabled;
    }

    /** A registry that shares. */
    public static SharedStages create() {
        return new SharedStages(true);
    }

    /** A registry that never shares (every run trains every step): for comparisons and debugging. */
    public static SharedStages none() {
        return new SharedStages(false);
    }

    public boolean enabled() {
        return enabled;
    }

    /** Steps that runs did not train because they started from a shared stage end. */
    public long savedSteps() {
        return savedSteps.get();
    }

    void saved(long steps) {
        savedSteps.addAndGet(steps);
    }

    Optional<Source> find(String key) {
        return Optional.ofNullable(available.get(key));
    }

    void register(String key, Source source) {
        if (enabled) available.putIfAbsent(key, source);
    }

    /**
     * Registers the stage-end checkpoints already in {@code runDir}, a directory holding a run of
     * {@code plan}'s spec (the caller checked), so later runs can start from them.
     */
    void registerExisting(RunPlan plan, Path runDir) throws IOException {
        if (!enabled || !Files.exists(runDir.resolve("spec.json"))) return;
        List<String> keys = keys(plan);
        RunDirectory dir = RunDirectory.resume(runDir, plan.spec());
        for (RunDirectory.Checkpoint c : dir.listCheckpoints()) {
            String stage = c.state().stageEnd();
            if (stage == null) continue;
            for (Stage s : plan.stages()) {
                if (s.name().equals(stage) && s.end() == c.state().step() && s.index() < plan.stages().size() - 1) {
                    register(keys.get(s.index()), new Source(runDir, c.dir(), stage, s.end()));
                }
            }
        }
    }

    /**
     * One key per stage: equal keys at stage {@code k} mean equal training through the end of stage
     * {@code k}. The spec goes in without its name, its later stages and what cannot change a record
     * before that end (checkpointing); the schedules go in as the value of every step (so that a
     * run-level schedule spanning later stages is compared by what it gives these steps), and so do
     * the steps the loop evaluates at.
     */
    public static List<String> keys(RunPlan plan) {
        ObjectNode spec = Json.MAPPER.valueToTree(plan.spec());
        spec.remove("name");
        spec.remove("checkpoint");
        spec.remove("lr");
        spec.remove("weightDecay");
        ArrayNode stages = (ArrayNode) spec.get("stages");
        List<String> keys = new ArrayList<>();
        MessageDigest schedule = sha256();
        long step = 0;
        for (Stage s : plan.stages()) {
            for (; step < s.end(); step++) {
                putLong(schedule, Double.doubleToLongBits(plan.lrAt(step)));
                putLong(schedule, Double.doubleToLongBits(plan.weightDecayAt(step)));
                if (step % plan.spec().eval().every() == 0 || RunSummary.inWindow(plan, step)) putLong(schedule, ~step);
            }
            ObjectNode prefix = spec.deepCopy();
            ArrayNode kept = prefix.putArray("stages");
            for (int i = 0; i <= s.index(); i++) {
                ObjectNode st = stages.get(i).deepCopy();
                st.remove("lr");
                st.remove("weightDecay");
                kept.add(st);
            }
            MessageDigest copy = clone(schedule);
            prefix.put("schedule", HexFormat.of().formatHex(copy.digest()));
            prefix.put("through", s.end());
            keys.add(HexFormat.of().formatHex(sha256().digest(prefix.toString().getBytes(StandardCharsets.UTF_8))));
        }
        return keys;
    }

    /**
     * Makes {@code runDir} (holding nothing past its spec) a run of {@code plan} that has trained up to
     * {@code source}'s stage end: its spec, the source's records before that step (byte for byte), a
     * copy of the checkpoint (hard links where the file system allows: checkpoint files are never
     * written in place) and {@code shared.json} naming the source. The checkpoint appears whole or not
     * at all, and the records only after it, so an interrupted seeding is simply seeded again.
     */
    static void seed(Path runDir, RunPlan plan, Source source) throws IOException {
        RunDirectory dir = RunDirectory.resume(runDir, plan.spec());
        if (dir.latestCheckpoint().isPresent()) {
            throw new IllegalStateException(runDir + " already has checkpoints; it resumes from them");
        }
        String name = source.checkpoint().getFileName().toString();
        Path tmp = dir.checkpoints().resolve("." + name + ".tmp");
        RunDirectory.deleteTree(tmp);
        Files.createDirectories(dir.checkpoints());
        copyTree(source.checkpoint(), tmp);
        LoopState state = Json.MAPPER.readValue(tmp.resolve("loop.json").toFile(), LoopState.class);
        if (state.step() != source.step()) {
            throw new IllegalStateException(source.checkpoint() + " is at step " + state.step() + ", not " + source.step());
        }
        List<String> lines = recordsBefore(source.runDir().resolve("metrics.jsonl"), source.step());
        AtomicFiles.write(dir.metrics(), o -> {
            for (String line : lines) {
                o.write(line.getBytes(StandardCharsets.UTF_8));
                o.write('\n');
            }
        });
        AtomicFiles.writeJson(runDir.resolve(SHARED_JSON),
                new Note(source.runDir().toAbsolutePath().normalize().toString(), source.stage(), source.step()));
        AtomicFiles.move(tmp, dir.checkpoints().resolve(name));
    }

    /**
     * The lines of {@code metrics} for steps before {@code step}, as written. The source may still be
     * training (appending after that step); every line before it was flushed before its checkpoint.
     */
    static List<String> recordsBefore(Path metrics, long step) throws IOException {
        List<String> kept = new ArrayList<>();
        long expected = 0;
        try (BufferedReader in = Files.newBufferedReader(metrics, StandardCharsets.UTF_8)) {
            for (String line; (line = in.readLine()) != null; ) {
                if (line.isBlank()) continue;
                StepRecord r;
                try {
                    r = Json.MAPPER.readValue(line, StepRecord.class);
                } catch (IOException e) {
                    break; // a line being written after the boundary
                }
                if (r.step() >= step) break;
                if (r.step() != expected) {
                    throw new IOException(metrics + ": step " + expected + " expected, found " + r.step());
                }
                expected++;
                kept.add(line);
            }
        }
        if (expected != step) throw new IOException(metrics + " holds " + expected + " steps, not the " + step + " shared");
        return kept;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    try {
                        Files.createLink(target, p);
                    } catch (IOException | UnsupportedOperationException e) {
                        Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING); // no hard links here
                    }
                }
            }
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    private static MessageDigest clone(MessageDigest d) {
        try {
            return (MessageDigest) d.clone();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("SHA-256 digests cannot be cloned here", e);
        }
    }

    private static void putLong(MessageDigest d, long v) {
        for (int i = 0; i < 8; i++) d.update((byte) (v >>> (8 * i)));
    }
}
