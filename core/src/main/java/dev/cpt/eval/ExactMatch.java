package dev.cpt.eval;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * lm-evaluation-harness's scoring of a generate_until answer for {@code triviaqa} and
 * {@code nq_open}: the generation cut at the first of the task's {@code until} strings (its
 * postprocess_generated_text), the {@code remove_whitespace} filter (Python's strip), then the
 * {@code exact_match} metric (exact_match_hf_evaluate: each of {@code regexes_to_ignore} removed,
 * lower-cased with {@code ignore_case}, string.punctuation removed with {@code ignore_punctuation})
 * against every answer, 1 when any is equal.
 */
public record ExactMatch(List<String> until, List<Pattern> regexesToIgnore, boolean ignoreCase, boolean ignorePunctuation) {

    /** Python's string.punctuation. */
    static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    /** triviaqa/default.yaml: until "\n", ".", ","; ignore_case and ignore_punctuation. */
    public static final ExactMatch TRIVIAQA = new ExactMatch(List.of("\n", ".", ","), List.of(), true, true);

    /**
     * nq_open.yaml: the same, and its regexes_to_ignore (articles); Unicode word boundaries, as
     * Python's re has them for a str pattern.
     */
    public static final ExactMatch NQ_OPEN = new ExactMatch(List.of("\n", ".", ","),
            List.of(Pattern.compile("\\b(?:The |the |An |A |The |a |an )", Pattern.UNICODE_CHARACTER_CLASS)), true, true);

    /** The generation before the first of {@code until}. */
    public String cut(String generation) {
        return UntilGenerator.cut(generation, until);
    }

    /** The answer as the filter leaves it: cut, then stripped of whitespace on both sides. */
    public String filtered(String generation) {
        return EvalTask.pythonStrip(cut(generation), true, true);
    }

    /** The metric's normalisation of a prediction or a reference. */
    public String normalise(String s) {
        for (Pattern p : regexesToIgnore) s = p.matcher(s).replaceAll("");
        if (ignoreCase) s = s.toLowerCase(Locale.ROOT);
        if (ignorePunctuation) {
            StringBuilder b = new StringBuilder(s.length());
            for (int i = 0; i < s.length(); i++) if (PUNCTUATION.indexOf(s.charAt(i)) < 0) b.append(s.charAt(i));
            s = b.toString();
        }
        return s;
    }

    /** 1 when the filtered answer equals any reference after normalisation, else 0 (the harness's multiple-target rule). */
    public double score(String filteredAnswer, List<String> references) {
        String p = normalise(filteredAnswer);
        for (String r : references) if (normalise(r).equals(p)) return 1.0;
        return 0.0;
    }
}
