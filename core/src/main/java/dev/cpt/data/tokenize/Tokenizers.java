package dev.cpt.data.tokenize;

/** Opens a tokenizer by the id a shard records. */
public final class Tokenizers {
    public static final String ACCEPTED = "bytes (UTF-8 bytes, vocabulary 256), gpt2 (GPT-2 BPE r50k_base, vocabulary 50257), "
            + "hf:PATH (a Hugging Face tokenizer.json, or a directory holding one; hf:PATH#eot=ID names the end-of-text token)";

    private Tokenizers() {}

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
