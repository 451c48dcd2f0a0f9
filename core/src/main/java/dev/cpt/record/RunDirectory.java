package dev.cpt.record;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cpt.spec.RunSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A run's directory: {@code spec.json} (the spec as run, defaults filled in), {@code metrics.jsonl},
 * {@code summary.json} and {@code checkpoints/step-NNNNNNNN/} ({@code loop.json}, {@code engine/} and
 * {@code manifest.json}, every file's size and SHA-256: {@link CheckpointManifest}).
 * Every file and checkpoint appears whole or not at all.
 */
public final class RunDirectory {
    private final Path dir;

    private RunDirectory(Path dir) {
        this.dir = dir;
    }

    public Path path() {
        return dir;
    }

    public Path specFile() {
        return dir.resolve("spec.json");
    }

    public Path metrics() {
        return dir.resolve("metrics.jsonl");
    }

    public Path summary() {
        return dir.resolve("summary.json");
    }

    public Path checkpoints() {
        return dir.resolve("checkpoints");
    }

    /** Opens the run in {@code dir} to read it (its spec and checkpoints), as cpt eval does. */
    public static RunDirectory existing(Path dir) {
        RunDirectory run = new RunDirectory(dir);
        if (!Files.isRegularFile(run.specFile())) throw new IllegalArgumentException(dir + " holds no run (no spec.json)");
        return run;
    }

    /**
     * The run another process writes (rank 0 of a multi-rank run), opened by a rank that only reads
     * its checkpoints; nothing is checked or touched.
     */
    public static RunDirectory readOnly(Path dir) {
        return new RunDirectory(dir);
    }

    /** Opens {@code dir} for a new run; refuses a directory that already holds one. */
    public static RunDirectory create(Path dir, RunSpec spec) throws IOException {
        RunDirectory run = new RunDirectory(dir);
        if (Files.exists(run.specFile()) || Files.exists(run.metrics()) || Files.exists(run.checkpoints())) {
            throw new IllegalStateException(dir + " already holds a run; resume it, or choose another directory");
        }
        Files.createDirectories(dir);
        AtomicFiles.writeJson(run.specFile(), spec);
        return run;
    }

    /** Opens the run in {@code dir} to continue it; the spec must be the one it was started with. */
    public static RunDirectory resume(Path dir, RunSpec spec) throws IOException {
        RunDirectory run = new RunDirectory(dir);
        if (!Files.exists(run.specFile())) return create(dir, spec);
        JsonNode stored = Json.MAPPER.readTree(run.specFile().toFile());
        // Through text, as the stored one went, so that 15 and 15L compare equal.
        JsonNode now = Json.MAPPER.readTree(Json.MAPPER.writeValueAsString(spec));
        if (!stored.equals(now)) {
            throw new IllegalStateException(dir + " holds a run of a different spec (" + firstDifference(stored, now)
                    + "); start the changed spec in another directory");
        }
        return run;
    }

    /** Where two specs (as JSON trees) first differ, as {@code stages[1].replay.fraction was 0.25, is 0.5}. */
    public static String firstDifference(JsonNode was, JsonNode is) {
        return firstDifference("", was, is);
    }

    private static String firstDifference(String path, JsonNode a, JsonNode b) {
        if (a.isObject() && b.isObject()) {
            var names = new java.util.TreeSet<String>();
            a.fieldNames().forEachRemaining(names::add);
            b.fieldNames().forEachRemaining(names::add);
            for (String n : names) {
                JsonNode x = a.get(n), y = b.get(n);
                String p = path.isEmpty() ? n : path + "." + n;
                if (x == null || y == null) return p + " was " + x + ", is " + y;
                if (!x.equals(y)) return firstDifference(p, x, y);
            }
        } else if (a.isArray() && b.isArray() && a.size() == b.size()) {
            for (int i = 0; i < a.size(); i++) {
                if (!a.get(i).equals(b.get(i))) return firstDifference(path + "[" + i + "]", a.get(i), b.get(i));
            }
        }
        return path + " was " + a + ", is " + b;
    }

    /** A complete checkpoint on disk. */
    public record Checkpoint(Path dir, LoopState state) {
        public Path engineDir() {
            return dir.resolve("engine");
        }
    }

    /**
     * Complete checkpoints, oldest first; unfinished temporaries are not among them, nor is a
     * checkpoint whose {@code loop.json} cannot be read (damaged: {@link #checkpointDirectories} still
     * lists it, for the resume to name).
     */
    public List<Checkpoint> listCheckpoints() throws IOException {
        List<Checkpoint> list = new ArrayList<>();
        for (Path p : checkpointDirectories()) {
            try {
                list.add(readCheckpoint(p));
            } catch (IOException damaged) {
                // left out: not a checkpoint that can be resumed from
            }
        }
        return list;
    }

    /** Every renamed-into-place checkpoint directory ({@code step-N}), oldest first, whatever its state. */
    public List<Path> checkpointDirectories() throws IOException {
        if (!Files.isDirectory(checkpoints())) return List.of();
        try (Stream<Path> s = Files.list(checkpoints())) {
            return s.filter(p -> p.getFileName().toString().matches("step-\\d+") && Files.isDirectory(p))
                    .sorted(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring(5))))
                    .toList();
        }
    }

    /** The checkpoint in {@code dir}, its loop state read from {@code loop.json}. */
    public static Checkpoint readCheckpoint(Path dir) throws IOException {
        Path loop = dir.resolve("loop.json");
        if (!Files.isRegularFile(loop)) throw new IOException(loop + " is missing");
        try {
            return new Checkpoint(dir, Json.MAPPER.readValue(loop.toFile(), LoopState.class));
        } catch (IOException e) {
            throw new IOException(loop + " cannot be read: " + e.getMessage(), e);
        }
    }

    public Optional<Checkpoint> latestCheckpoint() throws IOException {
        List<Checkpoint> all = listCheckpoints();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.getLast());
    }

    public interface EngineSaver {
        void save(Path engineDir) throws IOException;
    }

    /**
     * Writes a checkpoint into a temporary directory and renames it into place, then keeps only
     * the newest {@code keepPeriodic} checkpoints that are not stage ends.
     */
    public Checkpoint writeCheckpoint(LoopState state, EngineSaver engine, int keepPeriodic) throws IOException {
        String name = String.format("step-%08d", state.step());
        Path tmp = temporary(state.step());
        Path target = checkpoints().resolve(name);
        deleteTree(tmp);
        Files.createDirectories(tmp.resolve("engine"));
        engine.save(tmp.resolve("engine"));
        AtomicFiles.writeJson(tmp.resolve("loop.json"), state);
        // Last, once every file (every rank's shard) is on disk: the sizes and digests resume checks.
        CheckpointManifest.write(tmp);
        deleteTree(target); // same step, same state: a rerun after a resume rewrites it
        AtomicFiles.move(tmp, target);
        prune(keepPeriodic);
        return new Checkpoint(target, state);
    }

    private void prune(int keepPeriodic) throws IOException {
        List<Checkpoint> periodic = listCheckpoints().stream().filter(c -> c.state().stageEnd() == null).toList();
        for (int i = 0; i < periodic.size() - keepPeriodic; i++) deleteTree(periodic.get(i).dir());
    }

    private Path temporary(long step) {
        return checkpoints().resolve(String.format(".step-%08d.tmp", step));
    }

    /**
     * Where the engine's part of the checkpoint at {@code step} is written before the checkpoint is
     * renamed into place: the ranks of a multi-rank run other than 0 write their shards there.
     */
    public Path engineDirBeingWritten(long step) {
        return temporary(step).resolve("engine");
    }

    /** Deletes {@code p} and everything under it, if it exists. */
    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> {
                try {
                    Files.delete(f);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
