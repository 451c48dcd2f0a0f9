package dev.cpt.eval;

import java.util.List;

/**
 * One item of a task, as lm-evaluation-harness builds it: the context its requests share, the
 * choices (for {@code lambada}, the one target), the gold index, and for {@code truthfulqa_mc2}
 * which choices are true.
 *
 * @param docId the item's index in its file (0-based), as the harness's {@code doc_id}
 * @param line the item's line in its file (1-based), for messages
 * @param continuations the text each request scores after the context ({@code " " + choice} for
 *     multiple choice, the target itself for {@code lambada})
 * @param trueChoices for {@code truthfulqa_mc2}, whether each choice is true; otherwise empty
 */
public record TaskDoc(int docId, int line, String context, List<String> choices, List<String> continuations, int gold,
                      List<Boolean> trueChoices) {}
