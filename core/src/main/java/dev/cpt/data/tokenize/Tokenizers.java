package dev.cpt.data.tokenize;

/** Opens a tokenizer by the id a shard records. */
public final class Tokenizers {
    public static final String ACCEPTED = "bytes (UTF-8 bytes, vocabulary 256), gpt2 (GPT-2 BPE r50k_base, vocabulary 50257), "
            + "hf:PATH (a Hugging Face tokenizer.json, or a directory holding one; hf:PATH#eot=ID names the end-of-text token)";

    private Tokenizers() {}

    /**
     * Whether two tokenizer ids name the same tokenizer: equal ids, or two {@code hf:} ids of the
     * same {@code tokenizer.json} (a directory stands for the tokenizer.json in it; relative and
     * absolute paths alike) or of two files with the same bytes (a model directory's copy of the
     * file its data was prepared with), with the same {@code #eot=} choice.
     */
    public static boolean sameId(String a, String b) {
        if (a.equals(b)) return true;
        if (!a.startsWith("hf:") || !b.startsWith("hf:")) return false;
        String[] pa = splitEot(a.substring(3));
        String[] pb = splitEot(b.substring(3));
        if (!java.util.Objects.equals(pa[1], pb[1])) return false;
        java.nio.file.Path fa = tokenizerFile(pa[0]);
        java.nio.file.Path fb = tokenizerFile(pb[0]);
        if (fa.equals(fb)) return true;
        try {
            return java.nio.file.Files.isRegularFile(fa) && java.nio.file.Files.isRegularFile(fb)
                    && java.nio.file.Files.mismatch(fa, fb) == -1;
        } catch (java.io.IOException unreadable) {
            return false;
        }
    }

    /** The tokenizer.json an {@code hf:} path names: the path itself, or the file of that name in a directory. */
    public static java.nio.file.Path tokenizerFile(String path) {
        java.nio.file.Path p = java.nio.file.Path.of(path).toAbsolutePath().normalize();
        return java.nio.file.Files.isDirectory(p) ? p.resolve("tokenizer.json") : p;
    }

    private static String[] splitEot(String spec) {
        int hash = spec.lastIndexOf("#eot=");
        return hash < 0 ? new String[] {spec, null} : new String[] {spec.substring(0, hash), spec.substring(hash + 5)};
    }

    /**
     * {@code bytes}, {@code gpt2} or {@code hf:PATH[#eot=ID]}. The result may be used from several
     * threads; an {@code hf:} tokenizer holds native memory and is {@link AutoCloseable}.
     *
     * @throws IllegalArgumentException for an unknown id (listing the accepted forms), or a
     *     tokenizer file that is missing or cannot be read (naming it)
     */
    public static Tokenizer open(String id) {
        if (id == null || id.isBlank()) throw new IllegalArgumentException("no tokenizer given; accepted: " + ACCEPTED);
        String s = id.strip();
        if (s.equals("bytes")) return ByteTokenizer.INSTANCE;
        if (s.equals("gpt2")) return Gpt2Tokenizer.instance();
        if (s.startsWith("hf:")) return HfTokenizer.open(s.substring(3));
        throw new IllegalArgumentException("unknown tokenizer '" + id + "'; accepted: " + ACCEPTED);
    }
}
