package dev.cpt.data.tokenize;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.cpt.record.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} run by the Rust {@code tokenizers} library through DJL,
 * entirely offline: the file is read from disk, the native library comes out of DJL's jar (its CPU
 * build, even on a machine with CUDA), and DJL's telemetry is switched off, so nothing is
 * downloaded. No special tokens are added around a document and nothing is truncated or padded.
 *
 * <p>The vocabulary size is one more than the largest id in the model's vocabulary and the added
 * tokens. End-of-text is {@code <|endoftext|>} if the tokenizer has it, else {@code </s>}, else
 * {@code <eos>}, else {@code <|end_of_text|>}, unless named with {@code hf:PATH#eot=ID} (or
 * {@code #eot=TOKEN}).
 *
 * <p>The Rust tokenizer encodes through a shared, read-only handle, so one instance serves every
 * thread. A special token's spelling inside a document's text is encoded as ordinary text (its
 * first character apart from the rest), never as the special token.
 */
public final class HfTokenizer implements Tokenizer, AutoCloseable {
    static final List<String> END_OF_TEXT_CANDIDATES = List.of("<|endoftext|>", "</s>", "<eos>", "<|end_of_text|>");

    static {
        // Before any DJL class loads: never download a native library or phone home.
        setIfAbsent("ai.djl.offline", "true");
        setIfAbsent("OPT_OUT_TRACKING", "true");
        setIfAbsent("RUST_FLAVOR", "cpu");
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getenv(key) == null && System.getProperty(key) == null) System.setProperty(key, value);
    }

    private final String id;
    private final Path file;
    private final HuggingFaceTokenizer tokenizer;
    private final int vocabSize;
    private final int endOfText;
    /** Spellings of the special added tokens, longest first. */
    private final String[] specials;

    private HfTokenizer(String id, Path file, HuggingFaceTokenizer tokenizer, int vocabSize, int endOfText, String[] specials) {
        this.id = id;
        this.file = file;
        this.tokenizer = tokenizer;
        this.vocabSize = vocabSize;
        this.endOfText = endOfText;
        this.specials = specials;
    }

    /**
     * Opens {@code PATH} or {@code PATH#eot=ID}: PATH is a {@code tokenizer.json} or a directory
     * holding one.
     */
    public static HfTokenizer open(String spec) {
        String pathPart = spec;
        String eotPart = null;
        int hash = spec.lastIndexOf("#eot=");
        if (hash >= 0) {
            pathPart = spec.substring(0, hash);
            eotPart = spec.substring(hash + "#eot=".length());
            if (eotPart.isEmpty()) throw new IllegalArgumentException("hf:" + spec + ": #eot= needs a token id");
        }
        if (pathPart.isEmpty()) throw new IllegalArgumentException("hf: needs the path of a tokenizer.json (hf:PATH)");
        Path given = Path.of(pathPart).toAbsolutePath().normalize();
        Path file = Files.isDirectory(given) ? given.resolve("tokenizer.json") : given;
        String json;
        try {
            json = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("tokenizer file " + file + " does not exist");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read tokenizer file " + file + ": " + e.getMessage(), e);
        }
        Vocabulary vocab = Vocabulary.parse(file, json);
        String id = "hf:" + given + (eotPart == null ? "" : "#eot=" + eotPart);
        int eot = eotPart != null ? vocab.resolveEndOfText(eotPart, id) : vocab.findEndOfText(id);

        HuggingFaceTokenizer tk;
        try {
            // Options given (even empty ones) keep DJL from truncating at 512 tokens and padding.
            tk = HuggingFaceTokenizer.newInstance(file, Map.of(
                    "addSpecialTokens", "false",
                    "truncation", "false",
                    "padding", "false"));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read tokenizer file " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException | LinkageError e) {
            throw new IllegalArgumentException("cannot load tokenizer " + file + " with DJL's Hugging Face tokenizers: " + e
                    + " (DJL unpacks its native library under ~/.djl.ai, or $DJL_CACHE_DIR if set)", e);
        }
        return new HfTokenizer(id, file, tk, vocab.size, eot, vocab.specials());
    }

    public Path file() {
        return file;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public int endOfText() {
        return endOfText;
    }

    @Override
    public int[] encode(String text) {
        int at = findSpecial(text, 0);
        if (at < 0) return encodeRaw(text);
        List<int[]> parts = new ArrayList<>();
        int start = 0;
        while (at >= 0) {
            String special = specialAt(text, at);
            parts.add(encodeRaw(text.substring(start, at)));
            int first = Character.charCount(text.codePointAt(at));
            parts.add(encodeRaw(text.substring(at, at + first)));
            parts.add(encode(special.substring(first)));
            start = at + special.length();
            at = findSpecial(text, start);
        }
        parts.add(encodeRaw(text.substring(start)));
        int n = 0;
        for (int[] p : parts) n += p.length;
        int[] all = new int[n];
        int i = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, all, i, p.length);
            i += p.length;
        }
        return all;
    }

    /** Where the earliest special spelling starts at or after {@code from}, or -1. */
    private int findSpecial(String text, int from) {
        int best = -1;
        for (String s : specials) {
            int i = text.indexOf(s, from);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best;
    }

    /** The longest special spelling at {@code at}. */
    private String specialAt(String text, int at) {
        for (String s : specials) if (text.startsWith(s, at)) return s;
        throw new IllegalStateException();
    }

    private int[] encodeRaw(String text) {
        if (text.isEmpty()) return new int[0];
        long[] ids = tokenizer.encode(text, false, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }

    @Override
    public String decode(int[] tokens, int from, int to) {
        long[] ids = new long[to - from];
        for (int i = from; i < to; i++) ids[i - from] = tokens[i];
        return tokenizer.decode(ids, false);
    }

    /** Frees the native tokenizer; later calls fail. */
    @Override
    public void close() {
        tokenizer.close();
    }

    /** What cpt reads of tokenizer.json itself: token ids, and which added tokens are special. */
    private record Vocabulary(Path file, int size, Map<String, Integer> ids, Map<String, Boolean> added) {

        static Vocabulary parse(Path file, String json) {
            JsonNode root;
            try {
                root = Json.MAPPER.readTree(json);
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("tokenizer file " + file + " is not valid JSON: " + e.getOriginalMessage());
            }
            if (root == null || !root.isObject()) throw new IllegalArgumentException("tokenizer file " + file + " is not a JSON object");
            Map<String, Integer> ids = new HashMap<>();
            Map<String, Boolean> added = new HashMap<>();
            long max = -1;
            JsonNode vocab = root.path("model").path("vocab");
            if (vocab.isObject()) {
                for (var it = vocab.properties().iterator(); it.hasNext(); ) {
                    var e = it.next();
                    if (!e.getValue().canConvertToInt()) continue;
                    int id = e.getValue().intValue();
                    ids.putIfAbsent(e.getKey(), id);
                    max = Math.max(max, id);
                }
            } else if (vocab.isArray()) { // Unigram: [[piece, score], ...], the id is the index
                for (int i = 0; i < vocab.size(); i++) {
                    JsonNode piece = vocab.get(i);
                    if (piece.isArray() && piece.size() > 0) ids.putIfAbsent(piece.get(0).asText(), i);
                }
                max = vocab.size() - 1;
            }
            for (JsonNode t : root.path("added_tokens")) {
                if (!t.path("id").canConvertToInt() || !t.path("content").isTextual()) continue;
                int id = t.path("id").intValue();
                String content = t.path("content").asText();
                ids.put(content, id);
                added.put(content, t.path("special").asBoolean(false));
                max = Math.max(max, id);
            }
            if (max < 0) throw new IllegalArgumentException("tokenizer file " + file + " has no vocabulary (model.vocab) and no added tokens");
            return new Vocabulary(file, Math.toIntExact(max + 1), ids, added);
        }

        int findEndOfText(String id) {
            for (String c : END_OF_TEXT_CANDIDATES) {
                Integer i = ids.get(c);
                if (i != null) return i;
            }
            throw new IllegalArgumentException(id + ": the tokenizer has none of the end-of-text tokens cpt looks for ("
                    + String.join(", ", END_OF_TEXT_CANDIDATES) + "); name the document separator's id with "
                    + id + "#eot=ID (or #eot=TOKEN)");
        }

        int resolveEndOfText(String eot, String id) {
            int value;
            try {
                value = Integer.parseInt(eot);
            } catch (NumberFormatException e) {
                Integer byName = ids.get(eot);
                if (byName == null) throw new IllegalArgumentException(id + ": the tokenizer has no token " + eot);
                return byName;
            }
            if (value < 0 || value >= size) {
                throw new IllegalArgumentException(id + ": end-of-text id " + value + " is outside the vocabulary (0.." + (size - 1) + ")");
            }
            return value;
        }

        String[] specials() {
            return added.entrySet().stream().filter(Map.Entry::getValue).map(Map.Entry::getKey)
                    .filter(s -> !s.isEmpty())
                    .sorted(Comparator.comparingInt(String::length).reversed().thenComparing(Comparator.naturalOrder()))
                    .toArray(String[]::new);
        }
    }

    @Override
    public String toString() {
        return id + " (vocabulary " + vocabSize + ", end-of-text " + endOfText + ", specials " + Arrays.toString(specials) + ")";
    }
}
