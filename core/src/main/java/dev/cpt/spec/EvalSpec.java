package dev.cpt.spec;

import dev.cpt.eval.EvalTask;
import dev.cpt.eval.TaskFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Validation: every {@code every} steps, {@code batches} batches of each dataset's validation
 * tokens; and {@code tasks}, benchmarks (task name → JSON Lines file, as {@code cpt eval --task
 * NAME=FILE} takes them) scored at the start, at every stage end and so at the end of the run.
 */
public record EvalSpec(Long every, Integer batches, Map<String, String> tasks) {

    public static final EvalSpec DEFAULT = new EvalSpec(null, null, null);

    /**
     * The most tokens a generative task (triviaqa, nq_open) draws per item in a run, lm-evaluation-harness's
     * default max_gen_toks; its prompts are cut to the model's context less this.
     */
    public static final int MAX_GEN_TOKENS = 256;

    public EvalSpec {
        if (every == null) every = 50L;
        if (batches == null) batches = 8;
        if (tasks != null) tasks = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(tasks));
    }

    public EvalSpec(Long every, Integer batches) {
        this(every, batches, null);
    }

    /** Whether the run scores benchmarks. */
    public boolean hasTasks() {
        return tasks != null && !tasks.isEmpty();
    }

    /**
     * Checks the fields; each task's name must be one cpt eval knows and its file must hold items of
     * that task (read whole, relative paths from the working directory, as the datasets' are).
     */
    public void validate(String path, Problems p) {
        p.positive(Problems.child(path, "every"), every);
        p.positive(Problems.child(path, "batches"), batches);
        if (tasks == null) return;
        String tasksPath = Problems.child(path, "tasks");
        tasks.forEach((name, file) -> {
            String at = Problems.child(tasksPath, name);
            EvalTask task;
            try {
                task = EvalTask.byId(name);
            } catch (IllegalArgumentException e) {
                p.add(at, e.getMessage());
                return;
            }
            if (file == null || file.isBlank()) {
                p.addUnlessCovered(at, "missing: the " + name + " items' JSON Lines file");
                return;
            }
            if (!p.readsFiles()) return;
            try {
                TaskFile.read(task, Path.of(file), null);
            } catch (TaskFile.TaskFileException e) {
                p.add(at, e.getMessage() + (Path.of(file).isAbsolute() ? "" : " (relative paths are read from "
                        + Path.of("").toAbsolutePath() + ")"));
            } catch (IOException | RuntimeException e) {
                p.add(at, file + ": cannot read: " + e.getMessage());
            }
        });
    }

    /** Whether a generative task (scored from greedy generations of up to {@link #MAX_GEN_TOKENS} tokens) is among the tasks. */
    public boolean hasGenerativeTask() {
        if (tasks == null) return false;
        for (String name : tasks.keySet()) {
            try {
                if (EvalTask.byId(name).kind() == EvalTask.Kind.GENERATE_UNTIL) return true;
            } catch (IllegalArgumentException unknown) {
                // reported by validate
            }
        }
        return false;
    }
}
