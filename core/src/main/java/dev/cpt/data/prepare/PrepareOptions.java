package dev.cpt.data.prepare;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * What {@link Prepare#run} reads, how it tokenizes and splits, and where it writes.
 *
 * @param inputs text files, JSON Lines files ({@code .jsonl}, {@code .jsonl.gz}, {@code .jsonl.zst})
 *     and directories of them (read recursively, in sorted order)
 * @param tokenizer a tokenizer id: {@code bytes}, {@code gpt2}, {@code hf:PATH}
 * @param out the output directory; must not exist unless {@code overwrite}
 * @param valFraction the share of documents that go to validation, in [0, 1); 0 writes no val shard
 * @param seed decides which documents go to validation
 * @param jobs tokenizing threads; 0 or less means one per available core
 * @param skipBadLines count and skip JSON Lines lines that are not a record with text, instead of stopping
 * @param splitByDomain write one shard pair per domain, the {@code domainField} of each record
 * @param documentSeparator a regular expression a whole line of a text file must match to separate two
 *     documents (the line itself belongs to neither, e.g. {@code %} for fortune files); null: a text
 *     file is one document
 * @param overwrite replace an existing output directory
 * @param textField the field of a JSON Lines record holding its text, dotted for nested objects
 * @param domainField the field naming a record's domain, dotted ({@code meta.redpajama_set_name},
 *     SlimPajama's layout)
 */
public record PrepareOptions(List<Path> inputs, String tokenizer, Path out, double valFraction, long seed, int jobs,
                             boolean skipBadLines, boolean splitByDomain, String documentSeparator, boolean overwrite,
                             String textField, String domainField) {

    public static final double DEFAULT_VAL_FRACTION = 0.01;
    public static final String DEFAULT_TEXT_FIELD = "text";
    public static final String DEFAULT_DOMAIN_FIELD = "meta.redpajama_set_name";

    public PrepareOptions {
        inputs = List.copyOf(Objects.requireNonNull(inputs, "inputs"));
        if (inputs.isEmpty()) throw new IllegalArgumentException("no inputs given");
        Objects.requireNonNull(tokenizer, "tokenizer");
        Objects.requireNonNull(out, "out");
        if (!(valFraction >= 0 && valFraction < 1)) {
            throw new IllegalArgumentException("valFraction must be in [0, 1), not " + valFraction);
        }
        if (jobs <= 0) jobs = Runtime.getRuntime().availableProcessors();
        if (documentSeparator != null) {
            try {
                Pattern.compile(documentSeparator);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("documentSeparator is not a regular expression: " + e.getMessage());
            }
        }
        if (textField == null || textField.isBlank()) textField = DEFAULT_TEXT_FIELD;
        if (domainField == null || domainField.isBlank()) domainField = DEFAULT_DOMAIN_FIELD;
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private final List<Path> inputs = new ArrayList<>();
        private String tokenizer = "bytes";
        private Path out;
        private double valFraction = DEFAULT_VAL_FRACTION;
        private long seed;
        private int jobs;
        private boolean skipBadLines;
        private boolean splitByDomain;
        private String documentSeparator;
        private boolean overwrite;
        private String textField = DEFAULT_TEXT_FIELD;
        private String domainField = DEFAULT_DOMAIN_FIELD;

        public Builder input(Path p) {
            inputs.add(p);
            return this;
        }

        public Builder inputs(List<Path> ps) {
            inputs.addAll(ps);
            return this;
        }

        public Builder tokenizer(String id) {
            tokenizer = id;
            return this;
        }

        public Builder out(Path p) {
            out = p;
            return this;
        }

        public Builder valFraction(double f) {
            valFraction = f;
            return this;
        }

        public Builder seed(long s) {
            seed = s;
            return this;
        }

        public Builder jobs(int j) {
            jobs = j;
            return this;
        }

        public Builder skipBadLines(boolean b) {
            skipBadLines = b;
            return this;
        }

        public Builder splitByDomain(boolean b) {
            splitByDomain = b;
            return this;
        }

        public Builder documentSeparator(String regex) {
            documentSeparator = regex;
            return this;
        }

        public Builder overwrite(boolean b) {
            overwrite = b;
            return this;
        }

        public Builder textField(String f) {
            textField = f;
            return this;
        }

        public Builder domainField(String f) {
            domainField = f;
            return this;
        }

        public PrepareOptions build() {
            return new PrepareOptions(inputs, tokenizer, out, valFraction, seed, jobs, skipBadLines, splitByDomain,
                    documentSeparator, overwrite, textField, domainField);
        }
    }
}
