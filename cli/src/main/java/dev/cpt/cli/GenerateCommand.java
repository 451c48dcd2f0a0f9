package dev.cpt.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cpt.data.tokenize.Tokenizer;
import dev.cpt.generate.Generation;
import dev.cpt.generate.TokenSampler;
import dev.cpt.record.Json;
import dev.cpt.train.Engine;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cpt generate MODEL --prompt TEXT}: a prompt's continuation, sampled with a KV cache. */
@Command(name = "generate",
        sortOptions = false,
        description = {
            "Continue a prompt with a trained model: tokens are drawn one at a time with a KV cache (each new token costs one "
                    + "position's forward), by transformers' sampling rules (temperature, then top-k, then top-p), until "
                    + "--max-tokens are drawn, the end-of-text token is drawn, or the model's context is full. Runs on the "
                    + "simulator (gpt2 models) or, with --engine torch, on libtorch (gpt2, neox and mpt; --device cuda, --precision bf16).",
            "",
            "Prints the prompt and its continuation (with --json: one JSON object with the token ids and why it stopped); "
                    + "the number of tokens, why it stopped and the seed go to stderr. Temperature 0 is greedy (top-k and top-p "
                    + "then do nothing); with a temperature, the same --seed gives the same text every time.",
            "",
            "A prompt longer than the model's context is refused. Generation stops when prompt + continuation reach the "
                    + "context + 1 tokens (the last token is drawn from the last position's logits; a model with learned "
                    + "positions has no position for another)."
        })
final class GenerateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Parameters(index = "0", paramLabel = "MODEL", description = "The model: " + ModelSource.FORMS + ".")
    String model;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "The text to continue (empty: start from the end-of-text token).")
    String prompt;

    @Option(names = "--max-tokens", defaultValue = "100", paramLabel = "N", description = "The most tokens to draw. Default: ${DEFAULT-VALUE}.")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0.8", paramLabel = "T",
            description = "Logits are divided by T before sampling; 0 is greedy. Default: ${DEFAULT-VALUE}.")
    double temperature;

    @Option(names = "--top-k", defaultValue = "0", paramLabel = "K",
            description = "Sample from the K most likely tokens only (0: no top-k filter, the default).")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", paramLabel = "P",
            description = "Sample from the smallest set of most likely tokens whose probability reaches P (1: no filter, the default).")
    double topP;

    @Option(names = "--seed", paramLabel = "S", description = "The sampling seed (default: a random one, printed on stderr).")
    Long seed;

    @Option(names = "--tokenizer", paramLabel = "T",
            description = "The tokenizer (bytes, gpt2, hf:PATH); default: the run's training data's, or an hf: model's tokenizer.json.")
    String tokenizerId;

    @picocli.CommandLine.Mixin
    ModelEngineOptions run;

    @Option(names = "--json", description = "Print one JSON object: the prompt, its tokens, the drawn tokens, the text and why it stopped.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        if (maxTokens < 1) throw new CliException("--max-tokens must be at least 1, not " + maxTokens);
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new CliException("--temperature must be a finite number ≥ 0 (0 is greedy), not " + temperature);
        }
        if (topK < 0) throw new CliException("--top-k must be at least 1 (or 0 for no top-k filter), not " + topK);
        if (!(topP > 0 && topP <= 1)) throw new CliException("--top-p must be in (0, 1], not " + topP);
        run.check();
        TokenSampler sampler = new TokenSampler(temperature, topK, topP);
        long s = seed != null ? seed : new SplittableRandom().nextLong();

        ModelSource source = ModelSource.open(model);
        run.requireRunnable(source, "cpt generate");
        Tokenizer tokenizer = source.tokenizer(tokenizerId);
        try {
            // An empty prompt starts from the end-of-text token, as transformers starts GPT-2 from its BOS token (the same one).
            int[] promptTokens = prompt.isEmpty() ? new int[] {tokenizer.endOfText()} : tokenizer.encode(prompt);
            int context = source.shape().contextLength();
            if (promptTokens.length > context) {
                throw new CliException("the prompt is " + promptTokens.length + " tokens (" + tokenizer.id() + "), longer than the "
                        + "model's context of " + context + " tokens; shorten it");
            }
            Generation g;
            try (Engine e = run.open(source, "cpt generate"); Engine.Decoder decoder = e.decoder()) {
                g = Generation.run(decoder, promptTokens, maxTokens, sampler, tokenizer.vocabSize(), tokenizer.endOfText(),
                        new SplittableRandom(s));
            }
            print(g, tokenizer, s, context);
        } finally {
            if (tokenizer instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    // Nothing was written through it; a failing close changes nothing printed.
                }
            }
        }
        return 0;
    }

    private void print(Generation g, Tokenizer tokenizer, long s, int context) throws IOException {
        int[] all = g.sequence();
        // The text leaves out a start token that an empty prompt added and an end-of-text token that ended it.
        int from = prompt.isEmpty() ? 1 : 0;
        int to = g.stop() == Generation.Stop.END_OF_TEXT ? all.length - 1 : all.length;
        String text = tokenizer.decode(all, from, Math.max(from, to));
        String continuation = tokenizer.decode(all, g.prompt().length, Math.max(g.prompt().length, to));
        PrintWriter o = spec.commandLine().getOut();
        if (json) {
            ObjectNode j = Json.MAPPER.createObjectNode();
            j.put("model", model);
            j.put("tokenizer", tokenizer.id());
            j.put("prompt", prompt);
            j.set("prompt_tokens", Json.MAPPER.valueToTree(g.prompt()));
            j.set("tokens", Json.MAPPER.valueToTree(g.tokens()));
            j.put("continuation", continuation);
            j.put("text", text);
            j.put("stop", g.stop().id());
            j.put("temperature", temperature);
            j.put("top_k", topK);
            j.put("top_p", topP);
            j.put("seed", s);
            j.put("max_tokens", maxTokens);
            j.put("context_length", context);
            o.println(Json.MAPPER.writeValueAsString(j));
        } else {
            o.println(text);
        }
        o.flush();
        String why = switch (g.stop()) {
            case MAX_TOKENS -> "--max-tokens reached";
            case END_OF_TEXT -> "the end-of-text token was drawn";
            case CONTEXT_FULL -> "the model's context is full (" + context + " positions, and the token drawn from the last)";
        };
        spec.commandLine().getErr().println(g.tokens().length + " tokens after a prompt of " + g.prompt().length + "; stopped: " + why
                + (temperature == 0 ? "; greedy" : "; seed " + s));
    }
}
