package dev.cpt.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * A task's items scored and reduced to lm-evaluation-harness's metrics: per item as its
 * {@code process_results} does, over the task as its {@code mean} aggregation and
 * {@code mean_stderr} do ("N/A" for a single item, as the harness writes it).
 */
public final class Evaluation {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Evaluation() {}

    /** An item that cannot be scored, at {@link #line()} of its task's file. */
    public static final class ItemException extends IllegalArgumentException {
        private final int line;

        ItemException(int line, String message, Throwable cause) {
            super(message, cause);
            this.line = line;
        }

        public int line() {
            return line;
        }
    }

    /**
     * @param responses per item, a log-likelihood per continuation (empty for a generative task)
     * @param generations per item of a generative task, its generation cut at the stop strings
     *     (the harness's resps); empty for the others
     * @param itemMetrics per item, its metrics by name
     * @param aggregate the task's metrics (and their standard errors) by results.json key
     * @param shots the few-shot examples before each item's query
     */
    public record TaskResult(String name, EvalTask task, List<TaskDoc> docs, List<List<ContinuationScorer.Loglikelihood>> responses,
                             List<String> generations, List<Map<String, Double>> itemMetrics, Map<String, Object> aggregate,
                             int shots, int maxGenTokens) {}

    /**
     * Scores {@code docs} of {@code task} (results.json calls it {@code name}); {@code progress} hears requests done.
     *
     * @throws ItemException for an item that cannot be scored
     */
    public static TaskResult run(String name, EvalTask task, List<TaskDoc> docs, ContinuationScorer scorer, LongConsumer progress) {
        return run(name, task, docs, 0, scorer, progress);
    }

    /** As {@link #run(String, EvalTask, List, ContinuationScorer, LongConsumer)}, for items built with {@code shots} examples. */
    public static TaskResult run(String name, EvalTask task, List<TaskDoc> docs, int shots, ContinuationScorer scorer,
                                 LongConsumer progress) {
        if (task.kind() == EvalTask.Kind.GENERATE_UNTIL) throw new IllegalArgumentException(task.id() + " is generative: use generate");
        List<ContinuationScorer.Request> requests = new ArrayList<>();
        for (TaskDoc d : docs) for (String c : d.continuations()) requests.add(new ContinuationScorer.Request(d.context(), c));
        List<ContinuationScorer.Loglikelihood> lls;
        try {
            lls = scorer.score(requests, progress);
        } catch (ContinuationScorer.RequestException e) {
            int at = 0;
            TaskDoc doc = docs.getFirst();
            for (TaskDoc d : docs) {
                if (e.request() < at + d.continuations().size()) {
                    doc = d;
                    break;
                }
                at += d.continuations().size();
            }
            throw new ItemException(doc.line(), e.getMessage(), e);
        }
        List<List<ContinuationScorer.Loglikelihood>> responses = new ArrayList<>();
        List<Map<String, Double>> metrics = new ArrayList<>();
        int at = 0;
        for (TaskDoc d : docs) {
            List<ContinuationScorer.Loglikelihood> mine = lls.subList(at, at + d.continuations().size());
            at += d.continuations().size();
            responses.add(List.copyOf(mine));
            metrics.add(itemMetrics(task, d, mine));
        }
        return new TaskResult(name, task, docs, responses, List.of(), metrics, aggregate(task, metrics), shots, 0);
    }

    /**
     * Generates for {@code docs} of a generative {@code task} (one greedy request per item), and
     * scores each as the harness does: the generation cut at the task's stop strings (resps),
     * filtered by remove_whitespace and take_first, then exact match against the item's answers.
     * {@code progress} hears items done.
     *
     * @throws ItemException for an item whose context cannot be generated from
     */
    public static TaskResult generate(String name, EvalTask task, List<TaskDoc> docs, int shots, UntilGenerator generator,
                                      LongConsumer progress) {
        ExactMatch em = task.exactMatch();
        List<String> generations = new ArrayList<>();
        List<Map<String, Double>> metrics = new ArrayList<>();
        for (TaskDoc d : docs) {
            UntilGenerator.Result g;
            try {
                g = generator.generate(d.context(), em.until());
            } catch (IllegalArgumentException | IllegalStateException e) {
                throw new ItemException(d.line(), e.getMessage(), e);
            }
            generations.add(g.text());
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("exact_match", em.score(em.filtered(g.text()), d.answers()));
            metrics.add(m);
            progress.accept(generations.size());
        }
        return new TaskResult(name, task, docs, List.of(), List.copyOf(generations), metrics, aggregate(task, metrics), shots,
                generator.maxGenTokens());
    }

    /** One item's metrics, as the harness's process_results computes them for its kind of task. */
    static Map<String, Double> itemMetrics(EvalTask task, TaskDoc doc, List<ContinuationScorer.Loglikelihood> lls) {
        Map<String, Double> m = new LinkedHashMap<>();
        switch (task.kind()) {
            case MULTIPLE_CHOICE -> {
                int n = lls.size();
                double[] raw = new double[n];
                double[] perChar = new double[n];
                for (int i = 0; i < n; i++) {
                    raw[i] = lls.get(i).logLikelihood();
                    // len() of the choice as Python counts a str: code points, not UTF-16 units.
                    String choice = doc.choices().get(i);
                    perChar[i] = raw[i] / choice.codePointCount(0, choice.length());
                }
                m.put("acc", argmax(raw) == doc.gold() ? 1.0 : 0.0);
                if (task.metrics().contains("acc_norm")) m.put("acc_norm", argmax(perChar) == doc.gold() ? 1.0 : 0.0);
            }
            case TRUE_MASS -> {
                // The true choices' share of the probability, exp(ll) normalized over all choices;
                // shifted by the largest ll first, which leaves the ratio as it is and keeps exp from underflowing.
                double max = Double.NEGATIVE_INFINITY;
                for (var l : lls) max = Math.max(max, l.logLikelihood());
                double all = 0;
                double truth = 0;
                for (int i = 0; i < lls.size(); i++) {
                    double p = Math.exp(lls.get(i).logLikelihood() - max);
                    all += p;
                    if (doc.trueChoices().get(i)) truth += p;
                }
                m.put("acc", truth / all);
            }
            case LOGLIKELIHOOD -> {
                m.put("perplexity", lls.getFirst().logLikelihood());
                m.put("acc", lls.getFirst().greedy() ? 1.0 : 0.0);
            }
            case GENERATE_UNTIL -> throw new IllegalArgumentException(task.id() + " is scored from generations, not log-likelihoods");
        }
        return m;
    }

    /** numpy's argmax: the first index of the largest value. */
    static int argmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    static Map<String, Object> aggregate(EvalTask task, List<Map<String, Double>> items) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("alias", task.id());
        String filter = task.filter();
        for (String metric : task.metrics()) {
            double[] values = items.stream().mapToDouble(m -> m.get(metric)).toArray();
            if (metric.equals("perplexity")) {
                // The harness's perplexity aggregation; its standard error is a bootstrap (not computed here).
                out.put(metric + "," + filter, Math.exp(-mean(values)));
            } else {
                out.put(metric + "," + filter, mean(values));
                out.put(metric + "_stderr," + filter, values.length > 1 ? meanStderr(values) : "N/A");
            }
        }
        return out;
    }

    static double mean(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return s / v.length;
    }

    /** The harness's mean_stderr: the sample standard deviation (n − 1) over √n. */
    static double meanStderr(double[] v) {
        double mu = mean(v);
        double ss = 0;
        for (double x : v) ss += (x - mu) * (x - mu);
        return Math.sqrt(ss / (v.length - 1)) / Math.sqrt(v.length);
    }

    /**
     * results.json in the harness's shape: {@code results.TASK["acc,none"]} and the rest,
     * {@code n-samples}, {@code higher_is_better}, and {@code config} (how it was run).
     *
     * @param original per task, how many items its file holds before --limit
     */
    public static ObjectNode resultsJson(List<TaskResult> results, Map<String, Integer> original, Map<String, String> files,
                                         ObjectNode config) {
        ObjectNode root = MAPPER.createObjectNode();
        ObjectNode res = root.putObject("results");
        ObjectNode samples = root.putObject("n-samples");
        ObjectNode higher = root.putObject("higher_is_better");
        ObjectNode configs = root.putObject("configs");
        ObjectNode nShot = root.putObject("n-shot");
        for (TaskResult r : results) {
            nShot.put(r.name(), r.shots());
            ObjectNode t = res.putObject(r.name());
            r.aggregate().forEach((k, v) -> t.set(k, MAPPER.valueToTree(v)));
            ObjectNode n = samples.putObject(r.name());
            n.put("original", original.getOrDefault(r.name(), r.docs().size()));
            n.put("effective", r.docs().size());
            ObjectNode h = higher.putObject(r.name());
            for (String m : r.task().metrics()) h.put(m, EvalTask.higherIsBetter(m));
            ObjectNode c = configs.putObject(r.name());
            c.put("task", r.task().id());
            c.put("output_type", r.task().outputType());
            c.put("data_file", files.get(r.name()));
            c.put("num_fewshot", r.shots());
            c.put("target_delimiter", TaskDoc.TARGET_DELIMITER);
            c.put("fewshot_delimiter", r.task().fewshotDelimiter());
            if (r.task().kind() == EvalTask.Kind.GENERATE_UNTIL) {
                c.set("generation_kwargs", generationKwargs(r.task()));
                c.put("max_gen_toks", r.maxGenTokens());
                ArrayNode filters = c.putArray("filter_list").addObject().put("name", r.task().filter()).putArray("filter");
                filters.addObject().put("function", "remove_whitespace");
                filters.addObject().put("function", "take_first");
            }
        }
        root.set("config", config);
        return root;
    }

    /** A generative task's generation_kwargs as its yaml gives them: until, do_sample false, temperature 0. */
    static ObjectNode generationKwargs(EvalTask task) {
        ObjectNode k = MAPPER.createObjectNode();
        ArrayNode until = k.putArray("until");
        task.exactMatch().until().forEach(until::add);
        k.put("do_sample", false);
        k.put("temperature", 0.0);
        return k;
    }

    /**
     * The harness's --log_samples lines for a task: per item {@code doc_id}, {@code target},
     * {@code arguments} (context, continuation per request), {@code filtered_resps}
     * ([log-likelihood, is_greedy] per request) and the item's metrics. For a generative task:
     * {@code target} the answers, {@code arguments} [[context, generation_kwargs]], {@code resps}
     * [[generation]], {@code filtered_resps} [the filtered answer], {@code filter}, {@code metrics}
     * and {@code exact_match}.
     */
    public static List<String> sampleLines(TaskResult r) {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < r.docs().size(); i++) {
            TaskDoc d = r.docs().get(i);
            ObjectNode o = MAPPER.createObjectNode();
            if (r.task().kind() == EvalTask.Kind.GENERATE_UNTIL) {
                // generate_until: one request (context, generation_kwargs); resps its generation, filtered_resps the filtered answer.
                o.put("doc_id", d.docId());
                ArrayNode target = o.putArray("target");
                d.answers().forEach(target::add);
                o.putArray("arguments").addArray().add(d.context()).add(generationKwargs(r.task()));
                o.putArray("resps").addArray().add(r.generations().get(i));
                o.putArray("filtered_resps").add(r.task().exactMatch().filtered(r.generations().get(i)));
                o.put("filter", r.task().filter());
                ArrayNode names = o.putArray("metrics");
                r.itemMetrics().get(i).keySet().forEach(names::add);
                r.itemMetrics().get(i).forEach(o::put);
                lines.add(o.toString());
                continue;
            }
            o.put("doc_id", d.docId());
            if (r.task().kind() == EvalTask.Kind.LOGLIKELIHOOD) o.put("target", d.continuations().getFirst());
            else o.put("target", d.gold());
            ArrayNode args = o.putArray("arguments");
            for (String c : d.continuations()) args.addArray().add(d.context()).add(c);
            ArrayNode resps = o.putArray("filtered_resps");
            for (var l : r.responses().get(i)) resps.addArray().add(l.logLikelihood()).add(l.greedy());
            r.itemMetrics().get(i).forEach(o::put);
            lines.add(o.toString());
        }
        return lines;
    }
}
