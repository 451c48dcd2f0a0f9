package dev.cpt.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each task's prompt, choices and gold from a hand-made item in its dataset's layout, and bad items named. */
class EvalTaskTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    static TaskDoc parse(EvalTask task, String json) throws IOException {
        return task.parse(JSON.readTree(json), 0, 1);
    }

    @Test
    void hellaswagIsPreprocessedAsTheHarnessDoes() throws IOException {
        // The harness's utils.preprocess, checked by hand and against Python: " [title]" → ". ", then
        // [header] and [step] vanish, double spaces halve (once), and ctx_b is str.capitalize()d (the rest lowered).
        TaskDoc d = parse(EvalTask.HELLASWAG, """
            {"activity_label": "Home and Garden", "ctx_a": "[header] How to grow tomatoes [title] Pick a sunny  spot.",
             "ctx_b": "Tomatoes NEED Eight hours", "endings": ["of sun a day [step] Water them.", " [substeps] of light, or more.",
             "in the dark.", "of  Rain."], "label": "1"}""");
        assertThat(d.context()).isEqualTo("Home and Garden: How to grow tomatoes. Pick a sunny spot. Tomatoes need eight hours");
        assertThat(d.choices()).containsExactly("of sun a day Water them.", " of light, or more.", "in the dark.", "of Rain.");
        assertThat(d.continuations()).containsExactly(" of sun a day Water them.", "  of light, or more.", " in the dark.", " of Rain.");
        assertThat(d.gold()).isEqualTo(1);
        // The strip comes first, so what a removed bracket leaves behind stays (Python gives "a  b " too).
        assertThat(EvalTask.hellaswagPreprocess("  a   b [x] ")).isEqualTo("a  b ");
        assertThat(EvalTask.pythonCapitalize("ǆemo")).isEqualTo("ǅemo");
    }

    @Test
    void arcOpenbookqaPiqaMmluTruthfulqaAndLambadaPrompts() throws IOException {
        TaskDoc arc = parse(EvalTask.ARC_EASY, """
            {"question": "Which is a gas?", "choices": {"text": ["ice", "steam", "rock"], "label": ["1", "2", "3"]}, "answerKey": "2"}""");
        assertThat(arc.context()).isEqualTo("Question: Which is a gas?\nAnswer:");
        assertThat(arc.continuations()).containsExactly(" ice", " steam", " rock");
        assertThat(arc.gold()).isEqualTo(1);

        TaskDoc obqa = parse(EvalTask.OPENBOOKQA, """
            {"question_stem": "The sun is responsible for", "choices": {"text": ["a", "b"], "label": ["A", "B"]}, "answerKey": " B"}""");
        assertThat(obqa.context()).isEqualTo("The sun is responsible for");
        assertThat(obqa.gold()).isEqualTo(1);

        TaskDoc piqa = parse(EvalTask.PIQA, """
            {"goal": "To cut a cake evenly,", "sol1": "use a warm knife.", "sol2": "use a spoon.", "label": 0}""");
        assertThat(piqa.context()).isEqualTo("Question: To cut a cake evenly,\nAnswer:");
        assertThat(piqa.choices()).containsExactly("use a warm knife.", "use a spoon.");

        TaskDoc mmlu = parse(EvalTask.MMLU, """
            {"question": "  Find the degree of Q(sqrt(2)) over Q.\\n", "subject": "abstract_algebra", "choices": ["0", "4", "2", "6"], "answer": 2}""");
        assertThat(mmlu.context()).isEqualTo("The following are multiple choice questions (with answers) about abstract algebra.\n\n"
                + "Find the degree of Q(sqrt(2)) over Q.\nA. 0\nB. 4\nC. 2\nD. 6\nAnswer:");
        assertThat(mmlu.continuations()).containsExactly(" A", " B", " C", " D");
        assertThat(mmlu.gold()).isEqualTo(2);

        String tqa = """
            {"question": "Can pigs fly?", "mc1_targets": {"choices": ["No.", "Yes."], "labels": [1, 0]},
             "mc2_targets": {"choices": ["No.", "No, never.", "Yes."], "labels": [1, 1, 0]}}""";
        TaskDoc mc1 = parse(EvalTask.TRUTHFULQA_MC1, tqa);
        assertThat(mc1.context()).startsWith("Q: What is human life expectancy in the United States?\nA: Human life expectancy")
                .contains("\n\nQ: Where were the 1992 Olympics held?\nA: The 1992 Olympics were held in Barcelona, Spain.\n\nQ: Can pigs fly?\nA:")
                .endsWith("Spain.\n\nQ: Can pigs fly?\nA:");
        assertThat(mc1.choices()).containsExactly("No.", "Yes.");
        TaskDoc mc2 = parse(EvalTask.TRUTHFULQA_MC2, tqa);
        assertThat(mc2.choices()).hasSize(3);
        assertThat(mc2.trueChoices()).containsExactly(true, true, false);

        TaskDoc lambada = parse(EvalTask.LAMBADA, "{\"text\": \"he said  hello\"}");
        assertThat(lambada.context()).isEqualTo("he said ");
        assertThat(lambada.continuations()).containsExactly(" hello");
        assertThat(parse(EvalTask.LAMBADA, "{\"text\": \"word\"}").context()).isEmpty();
    }

    @Test
    void badItemsAreNamedByFileAndLine() throws IOException {
        Path file = Files.writeString(tmp.resolve("h.jsonl"), """
            {"activity_label": "a", "ctx_a": "b", "ctx_b": "c", "endings": ["x", "y"], "label": 0}

            {"activity_label": "a", "ctx_a": "b", "ctx_b": "c", "endings": ["x", "y"], "label": "5"}
            """);
        assertThatThrownBy(() -> TaskFile.read(EvalTask.HELLASWAG, file, null)).isInstanceOf(TaskFile.TaskFileException.class)
                .hasMessage(file + ":3: not a hellaswag item: field \"label\" is 5, not an index of the 2 endings");
        assertThat(TaskFile.read(EvalTask.HELLASWAG, file, 1)).hasSize(1).first().extracting(TaskDoc::line).isEqualTo(1);

        record Case(EvalTask task, String line, String message) {}
        for (Case c : List.of(
                new Case(EvalTask.PIQA, "{\"goal\": \"g\", \"sol1\": \"a\", \"label\": 0}", "missing field \"sol2\""),
                new Case(EvalTask.ARC_EASY, "{\"question\": \"q\", \"choices\": {\"text\": [\"a\"], \"label\": [\"A\", \"B\"]}, \"answerKey\": \"A\"}",
                        "choices.label has 2 entries but choices.text has 1"),
                new Case(EvalTask.MMLU, "{\"question\": \"q\", \"subject\": \"s\", \"choices\": [\"a\", 3, \"c\", \"d\"], \"answer\": 0}",
                        "field \"choices\"[1] must be a string, not 3"),
                new Case(EvalTask.TRUTHFULQA_MC2, "{\"question\": \"q\", \"mc2_targets\": {\"choices\": [\"a\", \"b\"], \"labels\": [1, 2]}}",
                        "mc2_targets.labels[1] must be 0 or 1, not 2"),
                new Case(EvalTask.LAMBADA, "[\"text\"]", "expected a JSON object, found array"),
                new Case(EvalTask.LAMBADA, "{\"text\": 1", "not valid JSON"))) {
            Path f = Files.writeString(tmp.resolve(c.task().id() + ".jsonl"), "\n" + c.line() + "\n");
            assertThatThrownBy(() -> TaskFile.read(c.task(), f, null)).as(c.line()).hasMessageStartingWith(f + ":2: ")
                    .hasMessageContaining(c.message());
        }
        assertThatThrownBy(() -> TaskFile.read(EvalTask.PIQA, tmp.resolve("none.jsonl"), null)).hasMessageContaining("no such file");
        assertThatThrownBy(() -> EvalTask.byId("squad")).hasMessageContaining("unknown task \"squad\"").hasMessageContaining("lambada");
    }
}
