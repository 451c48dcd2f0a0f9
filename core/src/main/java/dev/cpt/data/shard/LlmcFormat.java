package dev.cpt.data.shard;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * llm.c's token files (written by {@code write_datafile} in llm.c's {@code dev/data/data_common.py},
 * read by its {@code llmc/dataloader.h}): read-only, memory-mapped.
 *
 * <h2>Byte layout</h2>
 * <pre>
 * offset    size        field
 * 0         4           magic, int32 LE: 20240520 (GPT-2 files) or 20240801 (Llama 3 files)
 * 4         4           version, int32 LE: 1 with magic 20240520, 7 with magic 20240801
 * 8         4           n, the number of tokens, int32 LE
 * 12        1012        the rest of the 256 int32 header (zeros; not read)
 * 1024      n × w       the tokens, little-endian: w = 2 (uint16) for version 1, 4 (uint32) for version 7
 * </pre>
 * The file size is exactly {@code 1024 + n × w}. llm.c's scripts put the document delimiter
 * <em>before</em> every document (GPT-2's {@code <|endoftext|>}, 50256; Llama 3's
 * {@code <|begin_of_text|>}, 128000); nothing here depends on it.
 *
 * <h2>Tokenizer</h2>
 * The file does not record its tokenizer; the caller may give one. Without one, the magic's usual
 * tokenizer is assumed and the shard says so: {@link TokenizerInfo#GPT2} for 20240520,
 * {@link TokenizerInfo#LLAMA3} (vocabulary 128256) for 20240801.
 *
 * <h2>Checks</h2>
 * The magic, the version that goes with it, a non-negative count, the file size against the count
 * (truncated and too-long files are named with both byte counts), and every token below the
 * vocabulary size (the first offender with its index and byte offset).
 */
public final class LlmcFormat {
    public static final String FORMAT = "llm.c";
    public static final int MAGIC_GPT2 = 20240520;
    public static final int VERSION_GPT2 = 1;
    public static final int MAGIC_LLAMA3 = 20240801;
    public static final int VERSION_LLAMA3 = 7;
    public static final int HEADER_BYTES = 256 * 4;

    private LlmcFormat() {}

    /** Whether {@code magic} (the first int32 of a file, little-endian) is one of llm.c's token-file magics. */
    public static boolean isMagic(int magic) {
        return magic == MAGIC_GPT2 || magic == MAGIC_LLAMA3;
    }

    /**
     * Maps and checks an llm.c token file.
     *
     * @param hintOrNull the tokenizer that made the file, or null to assume the magic's usual one
     */
    public static TokenShard open(Path file, TokenizerInfo hintOrNull) {
        FileChannel ch = ShardFiles.openRead(file, "an llm.c token file");
        TokenShard shard;
        try {
            long size = ShardFiles.size(ch, file);
            if (size < HEADER_BYTES) {
                throw new ShardFormatException(file, "truncated: " + size + " bytes, shorter than llm.c's " + HEADER_BYTES + "-byte header");
            }
            ByteBuffer h = ShardFiles.read(ch, file, 0, 12);
            int magic = h.getInt(0);
            int version = h.getInt(4);
            int count = h.getInt(8);
            int width;
            TokenizerInfo usual;
            if (magic == MAGIC_GPT2) {
                if (version != VERSION_GPT2) {
                    throw new ShardFormatException(file, "llm.c version " + version + " is not supported: files with magic "
                            + MAGIC_GPT2 + " are version " + VERSION_GPT2 + " (uint16 tokens)");
                }
                width = 2;
                usual = TokenizerInfo.GPT2;
            } else if (magic == MAGIC_LLAMA3) {
                if (version != VERSION_LLAMA3) {
                    throw new ShardFormatException(file, "llm.c version " + version + " is not supported: files with magic "
                            + MAGIC_LLAMA3 + " are version " + VERSION_LLAMA3 + " (uint32 tokens)");
                }
                width = 4;
                usual = TokenizerInfo.LLAMA3;
            } else {
                throw new ShardFormatException(file, "not an llm.c token file: magic " + magic + ", expected " + MAGIC_GPT2
                        + " (uint16 tokens) or " + MAGIC_LLAMA3 + " (uint32 tokens)");
            }
            if (count < 0) throw new ShardFormatException(file, "header says " + count + " tokens (negative)");
            long expected = HEADER_BYTES + (long) count * width;
            if (size != expected) {
                throw new ShardFormatException(file, ShardFiles.sizeProblem(expected, size) + " (a " + HEADER_BYTES
                        + "-byte header and " + count + " tokens of " + width + " bytes)");
            }
            TokenizerInfo tokenizer = ShardFiles.tokenizerOr(hintOrNull, usual);
            shard = new TokenShard(file, ShardFiles.map(ch, file, HEADER_BYTES, (long) count * width), width, tokenizer,
                    FORMAT, ShardFiles.origin(hintOrNull));
        } finally {
            ShardFiles.close(ch);
        }
        long bad = shard.firstOutOfVocabulary(shard.tokenizer().vocabSize());
        if (bad >= 0) {
            throw new ShardFormatException(file, ShardFiles.outOfVocabulary(shard, bad, HEADER_BYTES + bad * shard.bytesPerToken(), ""));
        }
        return shard;
    }
}
