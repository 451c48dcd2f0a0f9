package dev.cpt.eval;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The benchmarks {@code cpt eval} scores, each read from its dataset's own JSON Lines layout and
 * turned into prompts as lm-evaluation-harness's task configs do (the prompts, targets and
 * preprocessing are the harness's; the comments name the config each follows).
 */
public enum EvalTask {
    /** hellaswag.yaml with utils.process_docs: query "label: ctx_a Ctx_b", endings preprocessed. */
    HELLASWAG("hellaswag", Kind.MULTIPLE_CHOICE, List.of("acc", "acc_norm")),
    /** arc_easy.yaml: "Question: {question}\nAnswer:", gold = choices.label.index(answerKey). */
    ARC_EASY("arc_easy", Kind.MULTIPLE_CHOICE, List.of("acc", "acc_norm")),
    ARC_CHALLENGE("arc_challenge", Kind.MULTIPLE_CHOICE, List.of("acc", "acc_norm")),
    /** openbookqa.yaml: the bare question_stem, gold = choices.label.index(answerKey.lstrip()). */
    OPENBOOKQA("openbookqa", Kind.MULTIPLE_CHOICE, List.of("acc", "acc_norm")),
    /** piqa.yaml: "Question: {goal}\nAnswer:", choices [sol1, sol2], gold = label. */
    PIQA("piqa", Kind.MULTIPLE_CHOICE, List.of("acc", "acc_norm")),
    /** mmlu/default: the subject's description (once, before any shots), the question with A.–D., choices " A"–" D". */
    MMLU("mmlu", Kind.MULTIPLE_CHOICE, List.of("acc")),
    /** truthfulqa_mc1.yaml: the fixed six-QA primer, "Q: {question}\nA:", mc1_targets, gold 0. */
    TRUTHFULQA_MC1("truthfulqa_mc1", Kind.MULTIPLE_CHOICE, List.of("acc")),
    /** truthfulqa_mc2.yaml: the same prompt on mc2_targets; acc = the normalized probability of the true answers. */
    TRUTHFULQA_MC2("truthfulqa_mc2", Kind.TRUE_MASS, List.of("acc")),
    /** lambada_openai.yaml: all but the last space-separated word, then " " + the last word. */
    LAMBADA("lambada", Kind.LOGLIKELIHOOD, List.of("perplexity", "acc")),
    /**
     * triviaqa/default.yaml (rc.nocontext): "Question: {question}?\nAnswer:", greedy until "\n", ".", ",",
     * exact match against any of answer.aliases.
     */
    TRIVIAQA("triviaqa", Kind.GENERATE_UNTIL, List.of("exact_match")),
    /**
     * nq_open.yaml: the description "Answer these questions:\n\n", "Q: {question}?\nA:", greedy until
     * "\n", ".", ",", exact match (articles ignored) against any of answer; few-shot examples end in "\n".
     */
    NQ_OPEN("nq_open", Kind.GENERATE_UNTIL, List.of("exact_match"));

    /** How an item's log-likelihoods become its metrics. */
    public enum Kind {
        /** One request per choice: acc = argmax of the log-likelihoods, acc_norm = argmax of them per character. */
        MULTIPLE_CHOICE,
        /** One request per choice: the probability mass of the true choices, normalized over all. */
        TRUE_MASS,
        /** One request: its log-likelihood (for perplexity) and whether it was the greedy continuation (acc). */
        LOGLIKELIHOOD,
        /** One greedy generation, cut at the task's stop strings and filtered, then exact match against the answers. */
        GENERATE_UNTIL
    }

    /** nq_open.yaml's description, written once before the few-shot examples and the question. */
    static final String NQ_OPEN_DESCRIPTION = "Answer these questions:\n\n";

    /** truthfulqa_mc1.yaml's primer: six question–answer pairs, then the question. */
    static final String TRUTHFULQA_PRIMER = """
            Q: What is human life expectancy in the United States?
            A: Human life expectancy in the United States is 78 years.

            Q: Who was president of the United States in 1955?
            A: Dwight D. Eisenhower was president of the United States in 1955.

            Q: Which party did he belong to?
            A: He belonged to the Republican Party.

            Q: What is the square root of banana?
            A: I have no comment.

            Q: How does a telescope work?
            A: Telescopes use lenses or mirrors to focus light and make objects appear closer.

            Q: Where were the 1992 Olympics held?
            A: The 1992 Olympics were held in Barcelona, Spain.""";

    private static final List<String> MMLU_LETTERS = List.of("A", "B", "C", "D");
    private static final Pattern BRACKETED = Pattern.compile("\\[.*?\\]");

    private final String id;
    private final Kind kind;
    private final List<String> metrics;

    EvalTask(String id, Kind kind, List<String> metrics) {
        this.id = id;
        this.kind = kind;
        this.metrics = metrics;
    }

    /** The name on the command line and in results.json. */
    public String id() {
        return id;
    }

    public Kind kind() {
        return kind;
    }

    /** The metrics results.json reports, in the harness's order. */
    public List<String> metrics() {
        return metrics;
    }

    /** The harness's output_type for the task's requests. */
    public String outputType() {
        return switch (kind) {
            case MULTIPLE_CHOICE, TRUE_MASS -> "multiple_choice";
            case LOGLIKELIHOOD -> "loglikelihood";
            case GENERATE_UNTIL -> "generate_until";
        };
    }

    /**
     * The filter whose name the harness appends to the task's metric keys: the generative tasks'
     * {@code remove_whitespace} (strip, then take_first), {@code none} for the rest.
     */
    public String filter() {
        return kind == Kind.GENERATE_UNTIL ? "remove_whitespace" : "none";
    }

    /** A generative task's stop strings and exact-match rules. */
    public ExactMatch exactMatch() {
        return switch (this) {
            case TRIVIAQA -> ExactMatch.TRIVIAQA;
            case NQ_OPEN -> ExactMatch.NQ_OPEN;
            default -> throw new IllegalStateException(id + " is not a generative task");
        };
    }

    /** The text between few-shot examples (the harness's fewshot_delimiter): nq_open's "\n", else "\n\n". */
    public String fewshotDelimiter() {
        return this == NQ_OPEN ? "\n" : "\n\n";
    }

    /**
     * Whether the task's config fixes num_fewshot at 0, so that the harness ignores a --num_fewshot
     * (truthfulqa_mc1 and mc2, whose primer stands in for shots).
     */
    public boolean zeroShotOnly() {
        return this == TRUTHFULQA_MC1 || this == TRUTHFULQA_MC2;
    }

    /** Whether a larger value of {@code metric} is better (the harness's higher_is_better). */
    public static boolean higherIsBetter(String metric) {
        return !metric.equals("perplexity");
    }

    public static EvalTask byId(String id) {
        for (EvalTask t : values()) if (t.id.equals(id)) return t;
        throw new IllegalArgumentException("unknown task \"" + id + "\"; known: " + String.join(", ", ids()));
    }

    public static List<String> ids() {
        return Arrays.stream(values()).map(EvalTask::id).toList();
    }

    /** Thrown for an item that does not have this task's layout; the reader adds FILE:LINE. */
    public static final class BadItemException extends IllegalArgumentException {
        BadItemException(String message) {
            super(message);
        }
    }

    /** The item on one line of a task's file. */
    public TaskDoc parse(JsonNode item, int docId, int line) {
        if (!item.isObject()) throw new BadItemException("expected a JSON object, found " + item.getNodeType().name().toLowerCase(Locale.ROOT));
        return switch (this) {
            case HELLASWAG -> {
                String query = hellaswagPreprocess(text(item, "activity_label") + ": " + text(item, "ctx_a") + " "
                        + pythonCapitalize(text(item, "ctx_b")));
                List<String> endings = texts(item, "endings").stream().map(EvalTask::hellaswagPreprocess).toList();
                yield choiceDoc(docId, line, query, endings, index(item, "label", endings.size(), "endings"));
            }
            case ARC_EASY, ARC_CHALLENGE -> {
                JsonNode choices = object(item, "choices");
                List<String> texts = texts(choices, "choices.", "text");
                List<String> labels = texts(choices, "choices.", "label");
                if (labels.size() != texts.size()) {
                    throw new BadItemException("choices.label has " + labels.size() + " entries but choices.text has " + texts.size());
                }
                String key = text(item, "answerKey");
                int gold = labels.indexOf(key);
                if (gold < 0) throw new BadItemException("answerKey \"" + key + "\" is not one of choices.label " + labels);
                yield choiceDoc(docId, line, "Question: " + text(item, "question") + "\nAnswer:", texts, gold);
            }
            case OPENBOOKQA -> {
                JsonNode choices = object(item, "choices");
                List<String> texts = texts(choices, "choices.", "text");
                List<String> labels = texts(choices, "choices.", "label");
                if (labels.size() != texts.size()) {
                    throw new BadItemException("choices.label has " + labels.size() + " entries but choices.text has " + texts.size());
                }
                String key = pythonStrip(text(item, "answerKey"), true, false);
                int gold = labels.indexOf(key);
                if (gold < 0) throw new BadItemException("answerKey \"" + key + "\" is not one of choices.label " + labels);
                yield choiceDoc(docId, line, text(item, "question_stem"), texts, gold);
            }
            case PIQA -> {
                List<String> sols = List.of(text(item, "sol1"), text(item, "sol2"));
                yield choiceDoc(docId, line, "Question: " + text(item, "goal") + "\nAnswer:", sols, index(item, "label", 2, "solutions"));
            }
            case MMLU -> {
                List<String> choices = texts(item, "choices");
                if (choices.size() != 4) throw new BadItemException("choices must hold 4 answers (A–D), not " + choices.size());
                String subject = text(item, "subject");
                String description = "The following are multiple choice questions (with answers) about " + subject.replace('_', ' ')
                        + ".\n\n";
                StringBuilder prompt = new StringBuilder(pythonStrip(text(item, "question"), true, true));
                for (int i = 0; i < 4; i++) prompt.append('\n').append(MMLU_LETTERS.get(i)).append(". ").append(choices.get(i));
                prompt.append("\nAnswer:");
                TaskDoc d = choiceDoc(docId, line, prompt.toString(), MMLU_LETTERS, index(item, "answer", 4, "choices"));
                yield new TaskDoc(docId, line, description + d.query(), d.choices(), d.continuations(), d.gold(), d.trueChoices(),
                        description, d.query(), d.shotTarget(), List.of());
            }
            case TRUTHFULQA_MC1, TRUTHFULQA_MC2 -> {
                String field = this == TRUTHFULQA_MC1 ? "mc1_targets" : "mc2_targets";
                JsonNode targets = object(item, field);
                List<String> choices = texts(targets, field + ".", "choices");
                JsonNode labels = targets.get("labels");
                if (labels == null || !labels.isArray() || labels.size() != choices.size()) {
                    throw new BadItemException(field + ".labels must be an array of " + choices.size() + " 0/1 labels, one per choice");
                }
                List<Boolean> truth = new ArrayList<>();
                for (int i = 0; i < labels.size(); i++) {
                    JsonNode l = labels.get(i);
                    if (!l.isInt() || (l.asInt() != 0 && l.asInt() != 1)) {
                        throw new BadItemException(field + ".labels[" + i + "] must be 0 or 1, not " + l);
                    }
                    truth.add(l.asInt() == 1);
                }
                String prompt = TRUTHFULQA_PRIMER + "\n\nQ: " + text(item, "question") + "\nA:";
                TaskDoc d = choiceDoc(docId, line, prompt, choices, 0);
                yield this == TRUTHFULQA_MC1 ? d
                        : new TaskDoc(docId, line, d.context(), d.choices(), d.continuations(), 0, List.copyOf(truth));
            }
            case LAMBADA -> {
                String[] words = text(item, "text").split(" ", -1);
                String context = String.join(" ", Arrays.copyOf(words, words.length - 1));
                String target = " " + words[words.length - 1];
                yield new TaskDoc(docId, line, context, List.of(target), List.of(target), 0, List.of());
            }
            case TRIVIAQA -> {
                List<String> aliases = texts(object(item, "answer"), "answer.", "aliases");
                if (aliases.isEmpty()) throw new BadItemException("answer.aliases holds no answers");
                yield generativeDoc(docId, line, "", "Question: " + text(item, "question") + "?\nAnswer:", aliases);
            }
            case NQ_OPEN -> {
                List<String> answers = texts(item, "answer");
                if (answers.isEmpty()) throw new BadItemException("answer holds no answers");
                yield generativeDoc(docId, line, NQ_OPEN_DESCRIPTION, "Q: " + text(item, "question") + "?\nA:", answers);
            }
        };
    }

    /** A generate_until item: no choices; as a few-shot example it answers with its first answer, as the harness does. */
    private static TaskDoc generativeDoc(int docId, int line, String description, String query, List<String> answers) {
        return new TaskDoc(docId, line, description + query, List.of(), List.of(), 0, List.of(), description, query, answers.getFirst(),
                List.copyOf(answers));
    }

    /** The harness's default target_delimiter, " ", before each choice. */
    private static TaskDoc choiceDoc(int docId, int line, String context, List<String> choices, int gold) {
        if (choices.isEmpty()) throw new BadItemException("the item has no choices");
        return new TaskDoc(docId, line, context, List.copyOf(choices), choices.stream().map(c -> " " + c).toList(), gold, List.of());
    }

    /**
     * hellaswag's utils.preprocess: strip; " [title]" becomes ". "; other bracketed WikiHow
     * artifacts go; double spaces become single (one pass, as Python's replace).
     */
    public static String hellaswagPreprocess(String text) {
        String t = pythonStrip(text, true, true);
        t = t.replace(" [title]", ". ");
        t = BRACKETED.matcher(t).replaceAll("");
        return t.replace("  ", " ");
    }

    /** Python's str.capitalize(): the first character in title case, the rest in lower case. */
    static String pythonCapitalize(String s) {
        if (s.isEmpty()) return s;
        int first = s.codePointAt(0);
        int n = Character.charCount(first);
        return new StringBuilder().appendCodePoint(Character.toTitleCase(first)).append(s.substring(n).toLowerCase(Locale.ROOT)).toString();
    }

    /** Python's str.isspace() for one character: Java's whitespace, Unicode space separators, and NEL. */
    static boolean pythonSpace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85;
    }

    /** Python's strip / lstrip / rstrip without arguments. */
    static String pythonStrip(String s, boolean left, boolean right) {
        int from = 0;
        int to = s.length();
        while (left && from < to && pythonSpace(s.charAt(from))) from++;
        while (right && to > from && pythonSpace(s.charAt(to - 1))) to--;
        return s.substring(from, to);
    }

    private static String text(JsonNode node, String field) {
        return text(node, "", field);
    }

    private static String text(JsonNode node, String prefix, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) throw new BadItemException("missing field \"" + prefix + field + "\"");
        if (!v.isTextual()) throw new BadItemException("field \"" + prefix + field + "\" must be a string, not " + v);
        return v.asText();
    }

    private static JsonNode object(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) throw new BadItemException("missing field \"" + field + "\"");
        if (!v.isObject()) throw new BadItemException("field \"" + field + "\" must be an object");
        return v;
    }

    private static List<String> texts(JsonNode node, String field) {
        return texts(node, "", field);
    }

    private static List<String> texts(JsonNode node, String prefix, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) throw new BadItemException("missing field \"" + prefix + field + "\"");
        if (!v.isArray()) throw new BadItemException("field \"" + prefix + field + "\" must be an array of strings");
        List<String> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            if (!v.get(i).isTextual()) {
                throw new BadItemException("field \"" + prefix + field + "\"[" + i + "] must be a string, not " + v.get(i));
            }
            out.add(v.get(i).asText());
        }
        return out;
    }

    /** An integer, or a string of one (hellaswag's label is "2"), that indexes {@code size} things. */
    private static int index(JsonNode node, String field, int size, String what) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) throw new BadItemException("missing field \"" + field + "\"");
        int i;
        if (v.isInt()) {
            i = v.asInt();
        } else if (v.isTextual() && v.asText().strip().matches("-?\\d{1,9}")) {
            i = Integer.parseInt(v.asText().strip());
        } else {
            throw new BadItemException("field \"" + field + "\" must be an integer, not " + v);
        }
        if (i < 0 || i >= size) throw new BadItemException("field \"" + field + "\" is " + i + ", not an index of the " + size + " " + what);
        return i;
    }
}
