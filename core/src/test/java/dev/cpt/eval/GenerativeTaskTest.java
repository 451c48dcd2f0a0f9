package dev.cpt.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cpt.data.tokenize.ByteTokenizer;
import dev.cpt.train.Engine;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * triviaqa and nq_open: prompts from hand-made items in the datasets' layouts, few-shot contexts,
 * greedy generation cut at the stop strings, exact match after the harness's normalisation, and
 * the results and samples in the harness's shape; checked on a decoder that plays a script.
 */
class GenerativeTaskTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final ByteTokenizer BYTES = ByteTokenizer.INSTANCE;

    @TempDir
    Path tmp;

    static TaskDoc parse(EvalTask task, String json, int docId, int line) throws IOException {
        return task.parse(JSON.readTree(json), docId, line);
    }

    /**
     * A decoder whose argmax after the prompt spells {@code script} a byte at a time (then the
     * end-of-text token); it records what it was fed.
     */
    static final class ScriptedDecoder implements Engine.Decoder {
        final int context;
        final byte[] script;
        final List<Integer> fed = new ArrayList<>();
        int promptLength = -1;
        boolean closed;

        ScriptedDecoder(int context, String script) {
            this.context = context;
            this.script = script.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public int contextLength() {
            return context;
        }

        @Override
        public int length() {
            return fed.size();
        }

        /** Call before generation: the prompt is this long. */
        ScriptedDecoder prompt(int n) {
            promptLength = n;
            return this;
        }

        @Override
        public float[] append(int token) {
            if (fed.size() == context) throw new IllegalStateException("full");
            fed.add(token);
            int k = fed.size() - promptLength;
            float[] logits = new float[256];
            int next = k < 0 ? 1 : k < script.length ? script[k] & 0xFF : BYTES.endOfText();
            logits[next] = 5f;
            return logits;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    @Test
    void triviaqaAndNqOpenItemsBecomeTheHarnessPrompts() throws IOException {
        TaskDoc t = parse(EvalTask.TRIVIAQA, """
            {"question": "Which Lancashire town is known for its tower", "question_id": "tc_1",
             "answer": {"aliases": ["Blackpool", "Blackpool, England"], "normalized_aliases": ["blackpool"], "value": "Blackpool"}}
            """, 0, 1);
        assertThat(t.context()).isEqualTo("Question: Which Lancashire town is known for its tower?\nAnswer:");
        assertThat(t.answers()).containsExactly("Blackpool", "Blackpool, England");
        assertThat(t.shotTarget()).isEqualTo("Blackpool");
        assertThat(t.continuations()).isEmpty();
        TaskDoc n = parse(EvalTask.NQ_OPEN, "{\"question\": \"who wrote the iliad\", \"answer\": [\"Homer\"]}", 0, 1);
        assertThat(n.context()).isEqualTo("Answer these questions:\n\nQ: who wrote the iliad?\nA:");
        assertThat(n.description()).isEqualTo("Answer these questions:\n\n");
        assertThat(EvalTask.TRIVIAQA.filter()).isEqualTo("remove_whitespace");
        assertThat(EvalTask.NQ_OPEN.outputType()).isEqualTo("generate_until");
        assertThat(EvalTask.ids()).contains("triviaqa", "nq_open");
    }

    @Test
    void fewShotContextsAreDescriptionThenExamplesThenTheQuery() throws IOException {
        List<TaskDoc> pool = List.of(
                parse(EvalTask.NQ_OPEN, "{\"question\": \"q1\", \"answer\": [\"a1\", \"b1\"]}", 0, 1),
                parse(EvalTask.NQ_OPEN, "{\"question\": \"q2\", \"answer\": [\"a2\"]}", 1, 2),
                parse(EvalTask.NQ_OPEN, "{\"question\": \"q3\", \"answer\": [\"a3\"]}", 2, 3));
        TaskDoc doc = pool.get(1);
        // From another file: the first two, in order; nq_open's examples end in "\n", its description comes once.
        TaskDoc two = doc.withShots(TaskDoc.firstShots(doc, pool, 2, false), EvalTask.NQ_OPEN.fewshotDelimiter());
        assertThat(two.context()).isEqualTo("Answer these questions:\n\nQ: q1?\nA: a1\nQ: q2?\nA: a2\nQ: q2?\nA:");
        // From the item's own file: never the item itself.
        assertThat(TaskDoc.firstShots(doc, pool, 2, true)).extracting(TaskDoc::line).containsExactly(1, 3);
        assertThat(TaskDoc.firstShots(doc, pool, 5, true)).hasSize(2);

        TaskDoc tq = parse(EvalTask.TRIVIAQA, "{\"question\": \"Q?\", \"answer\": {\"aliases\": [\"x\", \"y\"]}}", 0, 1);
        assertThat(tq.withShots(List.of(tq), EvalTask.TRIVIAQA.fewshotDelimiter()).context())
                .isEqualTo("Question: Q??\nAnswer: x\n\nQuestion: Q??\nAnswer:");

        // MMLU: the subject's header once, then examples of the same subject only, answered with their letter.
        String mmlu = "{\"question\": \"%s\", \"subject\": \"%s\", \"choices\": [\"w\", \"x\", \"y\", \"z\"], \"answer\": %d}";
        List<TaskDoc> dev = List.of(
                parse(EvalTask.MMLU, mmlu.formatted("d1", "anatomy", 1), 0, 1),
                parse(EvalTask.MMLU, mmlu.formatted("d2", "college_physics", 2), 1, 2),
                parse(EvalTask.MMLU, mmlu.formatted("d3", "college_physics", 3), 2, 3));
        TaskDoc item = parse(EvalTask.MMLU, mmlu.formatted("t", "college_physics", 0), 0, 1);
        assertThat(item.context()).startsWith("The following are multiple choice questions (with answers) about college physics.\n\nt\nA. w");
        TaskDoc shot = item.withShots(TaskDoc.firstShots(item, dev, 2, false), "\n\n");
        assertThat(shot.context()).isEqualTo("The following are multiple choice questions (with answers) about college physics.\n\n"
                + "d2\nA. w\nB. x\nC. y\nD. z\nAnswer: C\n\nd3\nA. w\nB. x\nC. y\nD. z\nAnswer: D\n\nt\nA. w\nB. x\nC. y\nD. z\nAnswer:");
        assertThat(shot.continuations()).containsExactly(" A", " B", " C", " D");
        // Multiple choice elsewhere: the example's gold choice after " ".
        TaskDoc arc = parse(EvalTask.ARC_EASY, """
            {"question": "Hot?", "choices": {"text": ["ice", "fire"], "label": ["A", "B"]}, "answerKey": "B"}""", 0, 1);
        assertThat(arc.withShots(List.of(arc), "\n\n").context()).isEqualTo("Question: Hot?\nAnswer: fire\n\nQuestion: Hot?\nAnswer:");
    }

    @Test
    void generationIsGreedyCutAtTheFirstStopStringAndDrawsNoMoreThanNeeded() {
        List<ScriptedDecoder> made = new ArrayList<>();
        String context = "Question: x?\nAnswer:";
        UntilGenerator g = new UntilGenerator(BYTES, () -> {
            ScriptedDecoder d = new ScriptedDecoder(64, " Paris, France.\nQuestion").prompt(context.length());
            made.add(d);
            return d;
        }, 64, 32);
        UntilGenerator.Result r = g.generate(context, ExactMatch.TRIVIAQA.until());
        assertThat(r.text()).isEqualTo(" Paris");
        // Drawing stopped at the ",": " Paris," is 7 tokens, the last one drawn but never fed.
        assertThat(r.tokens()).hasSize(7);
        assertThat(made.getFirst().fed).hasSize(context.length() + 6);
        assertThat(made.getFirst().closed).isTrue();
        assertThat(r.truncated()).isFalse();

        // The end-of-text token ends it too, and is not part of the text; max_gen_toks bounds it.
        UntilGenerator eot = new UntilGenerator(BYTES, () -> new ScriptedDecoder(64, "no stop").prompt(context.length()), 64, 32);
        assertThat(eot.generate(context, ExactMatch.TRIVIAQA.until()).text()).isEqualTo("no stop");
        UntilGenerator few = new UntilGenerator(BYTES, () -> new ScriptedDecoder(64, "no stop").prompt(context.length()), 64, 4);
        assertThat(few.generate(context, ExactMatch.TRIVIAQA.until()).text()).isEqualTo("no s");

        // The context is cut from the left to the model's context less max_gen_toks.
        List<ScriptedDecoder> small = new ArrayList<>();
        UntilGenerator cut = new UntilGenerator(BYTES, () -> {
            ScriptedDecoder d = new ScriptedDecoder(24, " Rome.").prompt(16);
            small.add(d);
            return d;
        }, 24, 8);
        UntilGenerator.Result c = cut.generate(context, ExactMatch.TRIVIAQA.until());
        assertThat(c.truncated()).isTrue();
        assertThat(c.contextTokens()).isEqualTo(16);
        assertThat(small.getFirst().fed.subList(0, 16)).containsExactlyElementsOf(
                toList(context.substring(context.length() - 16).getBytes(StandardCharsets.UTF_8)));
        assertThat(c.text()).isEqualTo(" Rome");

        assertThatThrownBy(() -> new UntilGenerator(BYTES, () -> null, 32, 32)).hasMessageContaining("max_gen_toks must be below");
    }

    static List<Integer> toList(byte[] b) {
        List<Integer> out = new ArrayList<>();
        for (byte x : b) out.add(x & 0xFF);
        return out;
    }

    @Test
    void exactMatchScoresEachItemAsTheHarnessAndResultsAndSamplesHaveItsShape() throws IOException {
        // Scripts per item: the generation, then what exact match makes of it.
        record Item(String json, String script, double em) {}
        List<Item> items = List.of(
                // Cut at ",", stripped, case and punctuation ignored: "the beatles" is an alias.
                new Item("{\"question\": \"a\", \"answer\": [\"Beatles\", \"The Beatles!\"]}", "  The Beatles, of course", 1),
                // nq_open drops articles at a word start on both sides: "A dog" matches "dog".
                new Item("{\"question\": \"b\", \"answer\": [\"dog\"]}", " A dog.", 1),
                // Cut at the newline; "Paris France" is not "Paris".
                new Item("{\"question\": \"c\", \"answer\": [\"Paris\"]}", " Paris France\nQ: next", 0),
                // An empty answer after the cut matches nothing.
                new Item("{\"question\": \"d\", \"answer\": [\"x\"]}", "\n", 0));
        List<TaskDoc> docs = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) docs.add(parse(EvalTask.NQ_OPEN, items.get(i).json(), i, i + 1));
        int[] call = {0};
        UntilGenerator g = new UntilGenerator(BYTES, () -> {
            TaskDoc d = docs.get(call[0]);
            return new ScriptedDecoder(256, items.get(call[0]++).script()).prompt(d.context().length());
        }, 256, 64);
        List<Long> progress = new ArrayList<>();
        Evaluation.TaskResult r = Evaluation.generate("nq_open", EvalTask.NQ_OPEN, docs, 0, g, progress::add);
        assertThat(r.generations()).containsExactly("  The Beatles", " A dog", " Paris France", "");
        assertThat(r.itemMetrics()).extracting(m -> m.get("exact_match")).containsExactly(1.0, 1.0, 0.0, 0.0);
        assertThat(progress).containsExactly(1L, 2L, 3L, 4L);
        assertThat(r.aggregate()).containsEntry("exact_match,remove_whitespace", 0.5)
                .containsEntry("exact_match_stderr,remove_whitespace", Math.sqrt(1.0 / 3) / 2);

        JsonNode s = JSON.readTree(Evaluation.sampleLines(r).getFirst());
        assertThat(s.get("doc_id").asInt()).isZero();
        assertThat(s.get("target").toString()).isEqualTo("[\"Beatles\",\"The Beatles!\"]");
        assertThat(s.at("/arguments/0/0").asText()).isEqualTo("Answer these questions:\n\nQ: a?\nA:");
        assertThat(s.at("/arguments/0/1").toString()).isEqualTo("{\"until\":[\"\\n\",\".\",\",\"],\"do_sample\":false,\"temperature\":0.0}");
        assertThat(s.get("resps").toString()).isEqualTo("[[\"  The Beatles\"]]");
        assertThat(s.get("filtered_resps").toString()).isEqualTo("[\"The Beatles\"]");
        assertThat(s.get("filter").asText()).isEqualTo("remove_whitespace");
        assertThat(s.get("metrics").toString()).isEqualTo("[\"exact_match\"]");
        assertThat(s.get("exact_match").asDouble()).isEqualTo(1.0);

        ObjectNode json = Evaluation.resultsJson(List.of(r), Map.of("nq_open", 10), Map.of("nq_open", "nq.jsonl"), JSON.createObjectNode());
        assertThat(json.at("/results/nq_open/exact_match,remove_whitespace").asDouble()).isEqualTo(0.5);
        assertThat(json.at("/higher_is_better/nq_open/exact_match").asBoolean()).isTrue();
        assertThat(json.at("/configs/nq_open/output_type").asText()).isEqualTo("generate_until");
        assertThat(json.at("/configs/nq_open/fewshot_delimiter").asText()).isEqualTo("\n");
        assertThat(json.at("/configs/nq_open/max_gen_toks").asInt()).isEqualTo(64);
        assertThat(json.at("/configs/nq_open/filter_list/0/filter/1/function").asText()).isEqualTo("take_first");
        assertThat(json.at("/n-shot/nq_open").asInt()).isZero();
        assertThat(json.at("/n-samples/nq_open/original").asInt()).isEqualTo(10);
    }

    @Test
    void malformedGenerativeItemsAreNamedByFileAndLine() throws IOException {
        record Case(EvalTask task, String line, String message) {}
        for (Case c : List.of(
                new Case(EvalTask.TRIVIAQA, "{\"question\": \"q\", \"answer\": {\"value\": \"v\"}}", "missing field \"answer.aliases\""),
                new Case(EvalTask.TRIVIAQA, "{\"question\": \"q\", \"answer\": [\"v\"]}", "field \"answer\" must be an object"),
                new Case(EvalTask.TRIVIAQA, "{\"question\": \"q\", \"answer\": {\"aliases\": []}}", "answer.aliases holds no answers"),
                new Case(EvalTask.NQ_OPEN, "{\"question\": \"q\", \"answer\": \"Homer\"}", "field \"answer\" must be an array of strings"),
                new Case(EvalTask.NQ_OPEN, "{\"question\": \"q\", \"answer\": [\"a\", 2]}", "field \"answer\"[1] must be a string, not 2"),
                new Case(EvalTask.NQ_OPEN, "{\"answer\": [\"a\"]}", "missing field \"question\""))) {
            Path f = Files.writeString(tmp.resolve(c.task().id() + ".jsonl"), "{\"question\": \"fine\", \"answer\": "
                    + (c.task() == EvalTask.NQ_OPEN ? "[\"x\"]" : "{\"aliases\": [\"x\"]}") + "}\n" + c.line() + "\n");
            assertThatThrownBy(() -> TaskFile.read(c.task(), f, null)).as(c.line())
                    .hasMessage(f + ":2: not a " + c.task().id() + " item: " + c.message());
        }
    }
}
