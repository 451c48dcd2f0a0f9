package dev.cpt.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * One item of a task, as lm-evaluation-harness builds it: the context its requests share, the
 * choices (for {@code lambada}, the one target), the gold index, for {@code truthfulqa_mc2} which
 * choices are true, and for the generative tasks the answers a generation is matched against.
 *
 * <p>The context is the task's {@code description} (MMLU's subject header, nq_open's
 * instruction; usually empty), then any few-shot examples ({@link #withShots}), then the item's
 * own {@code doc_to_text}, its {@link #query()}.
 *
 * @param docId the item's index in its file (0-based), as the harness's {@code doc_id}
 * @param line the item's line in its file (1-based), for messages
 * @param continuations the text each request scores after the context ({@code " " + choice} for
 *     multiple choice, the target itself for {@code lambada}; none for a generative task)
 * @param trueChoices for {@code truthfulqa_mc2}, whether each choice is true; otherwise empty
 * @param description what the harness puts before the examples and the query
 * @param query the item as a question ({@code doc_to_text})
 * @param shotTarget the item's answer when it serves as a few-shot example ({@code doc_to_target}:
 *     the gold choice, lambada's target, a generative task's first answer)
 * @param answers for a generative task, the references exact match accepts; otherwise empty
 */
public record TaskDoc(int docId, int line, String context, List<String> choices, List<String> continuations, int gold,
                      List<Boolean> trueChoices, String description, String query, String shotTarget, List<String> answers) {

    /** An item whose context is its query alone: no description, scored zero-shot. */
    public TaskDoc(int docId, int line, String context, List<String> choices, List<String> continuations, int gold,
                   List<Boolean> trueChoices) {
        this(docId, line, context, choices, continuations, gold, trueChoices, "", context,
                choices.isEmpty() ? "" : choices.get(gold), List.of());
    }

    /**
     * This item with {@code shots} before its query, as the harness's fewshot_context writes them
     * in plain text: the description, then per example its query, the target delimiter
     * {@code " "}, its target and {@code fewshotDelimiter}, then this item's query.
     */
    public TaskDoc withShots(List<TaskDoc> shots, String fewshotDelimiter) {
        StringBuilder ctx = new StringBuilder(description);
        for (TaskDoc s : shots) ctx.append(s.query()).append(TARGET_DELIMITER).append(s.shotTarget()).append(fewshotDelimiter);
        ctx.append(query);
        return new TaskDoc(docId, line, ctx.toString(), choices, continuations, gold, trueChoices, description, query, shotTarget,
                answers);
    }

    /** The harness's default target_delimiter, between a query and its answer (every task here keeps it). */
    public static final String TARGET_DELIMITER = " ";

    /**
     * The first {@code n} examples of {@code pool} for {@code doc}: those with the same description
     * (for MMLU, the same subject, as the harness takes MMLU's shots from the subject's dev split),
     * in pool order, leaving out the item itself when the pool is its own file (the harness leaves
     * the evaluated document out when the shots come from the split being evaluated).
     *
     * @param samePool whether {@code pool} was read from the file {@code doc} comes from
     * @return fewer than {@code n} when the pool has no more
     */
    public static List<TaskDoc> firstShots(TaskDoc doc, List<TaskDoc> pool, int n, boolean samePool) {
        List<TaskDoc> out = new ArrayList<>(n);
        for (TaskDoc p : pool) {
            if (out.size() == n) break;
            if (samePool && p.line() == doc.line()) continue;
            if (p.description().equals(doc.description())) out.add(p);
        }
        return out;
    }
}
