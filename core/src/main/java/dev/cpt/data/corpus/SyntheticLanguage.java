package dev.cpt.data.corpus;

import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.LongPredicate;

/**
 * A seeded stand-in for real text when the Debian corpora are missing: a "language" is a
 * vocabulary of made-up words over its own letter frequencies, used with Zipf-like frequencies and
 * a word-to-word preference, so it has unigram and bigram structure a model can learn. Two languages
 * made from the same base with a share of words in common differ as much as that share says:
 * that is how the built-in pairs get a weak and a strong shift without any real corpus.
 */
final class SyntheticLanguage implements TextSource {
    private static final String LATIN = "etaoinshrdlcumwfgypbvkjxqz";
    /** The same letters, but the frequent ones in another order: a dialect, a mild shift. */
    private static final String DIALECT = "teaonishdrclmuwfgpybvkjxqz";
    private static final String GERMANIC = "enisratdhulcgmobwfkzpvüäößjyxq";

    /** The base language's word-to-word preference: word w tends to be followed by word (w·31 + 7 + small) mod V. */
    private static final int BASE_SUCCESSOR_STEP = 31;
    /** A reordered language's: the same kind of preference, but other successors. */
    private static final int OWN_SUCCESSOR_STEP = 37;

    private final String name;
    private final String[] words;
    private final int successorStep;
    private final long seed;
    private final long documents;

    private SyntheticLanguage(String name, String[] words, int successorStep, long seed, long documents) {
        this.name = name;
        this.words = words;
        this.successorStep = successorStep;
        this.seed = seed;
        this.documents = documents;
    }

    /**
     * @param shared   the share of {@code base}'s vocabulary the new language keeps (1 = the same language)
     * @param germanic whether its own new words use another alphabet and longer words (else a dialect's letters)
     * @param reorder  whether the kept words get other frequencies and other successors than in {@code base}.
     *                 Without it the kept words keep their rank and successors, so most of what a model
     *                 learns from the new language holds for {@code base} too, and training on it goes on
     *                 improving {@code base} (negative forgetting); with it the two disagree on what
     *                 follows a shared word, so learning one unlearns some of the other, as between real
     *                 genres of one language.
     */
    static SyntheticLanguage derive(String name, SyntheticLanguage base, double shared, boolean germanic, boolean reorder,
                                    long seed, long documents) {
        SplittableRandom rnd = new SplittableRandom(seed);
        String[] kept = base.words.clone();
        if (reorder) {
            for (int i = kept.length - 1; i > 0; i--) {
                int j = rnd.nextInt(i + 1);
                String t = kept[i];
                kept[i] = kept[j];
                kept[j] = t;
            }
        }
        String[] words = new String[kept.length];
        for (int i = 0; i < words.length; i++) {
            words[i] = rnd.nextDouble() < shared ? kept[i] : word(rnd, germanic ? GERMANIC : DIALECT, germanic ? 1.35 : 1.0);
        }
        return new SyntheticLanguage(name, words, reorder ? OWN_SUCCESSOR_STEP : base.successorStep, seed, documents);
    }

    static SyntheticLanguage base(String name, int vocabulary, long seed, long documents) {
        SplittableRandom rnd = new SplittableRandom(seed);
        String[] words = new String[vocabulary];
        for (int i = 0; i < vocabulary; i++) words[i] = word(rnd, LATIN, 1.0);
        return new SyntheticLanguage(name, words, BASE_SUCCESSOR_STEP, seed, documents);
    }

    /** A made-up word: 1–9 letters, frequent letters more likely (a geometric draw over the alphabet). */
    private static String word(SplittableRandom rnd, String alphabet, double lengthScale) {
        int length = 1 + (int) Math.min(8, -Math.log(1 - rnd.nextDouble()) * 3.2 * lengthScale);
        StringBuilder w = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            int k = (int) Math.min(alphabet.length() - 1, -Math.log(1 - rnd.nextDouble()) * 6);
            w.append(alphabet.charAt(k));
        }
        return w.toString();
    }

    @Override
    public String describe() {
        return "synthetic language \"" + name + "\" (" + words.length + " words, seeded; no Debian corpus was found)";
    }

    @Override
    public boolean available() {
        return true;
    }

    @Override
    public long estimatedBytes() {
        return documents * 600;
    }

    @Override
    public void forEachDocument(LongPredicate keep, Consumer<String> sink) {
        for (long d = 0; d < documents; d++) {
            if (keep.test(d)) sink.accept(document(d));
        }
    }

    /** Zipf-ish word ranks; each word prefers a few successors (rank shifted by a word-specific offset). */
    private String document(long d) {
        SplittableRandom rnd = new SplittableRandom(seed * 1_000_003L + d);
        StringBuilder out = new StringBuilder();
        int sentences = 2 + rnd.nextInt(8);
        int previous = 0;
        for (int s = 0; s < sentences; s++) {
            int length = 4 + rnd.nextInt(12);
            for (int i = 0; i < length; i++) {
                int rank = (int) Math.min(words.length - 1, Math.exp(rnd.nextDouble() * Math.log(words.length)) - 1);
                int w = rnd.nextDouble() < 0.5 ? (previous * successorStep + 7 + rank % 5) % words.length : rank;
                String word = words[w];
                out.append(i == 0 ? Character.toUpperCase(word.charAt(0)) + word.substring(1) : word);
                out.append(i == length - 1 ? ". " : (rnd.nextDouble() < 0.08 ? ", " : " "));
                previous = w;
            }
        }
        return out.toString().strip() + "\n";
    }
}
