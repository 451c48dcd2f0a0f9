package dev.cpt.data.shard;

import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * nanoGPT's token files ({@code train.bin} / {@code val.bin} as its {@code prepare.py} scripts write
 * them with {@code np.uint16 ... tofile}): read-only, memory-mapped.
 *
 * <h2>Byte layout</h2>
 * <pre>
 * offset 0:  token[0] token[1] ... token[n-1]     each an unsigned 16-bit little-endian integer
 * </pre>
 * No header, no index, no document boundaries beyond whatever end-of-text tokens the preparing
 * script put in (nanoGPT's OpenWebText script appends GPT-2's {@code <|endoftext|>}, 50256, after
 * every document). The file size is {@code 2 × n} bytes.
 *
 * <h2>Tokenizer</h2>
 * The file does not record its tokenizer, so the caller gives one; without one, GPT-2's
 * ({@link TokenizerInfo#GPT2}: vocabulary 50257, end of text 50256) is assumed and the shard says
 * so ({@link TokenShard#tokenizerOrigin()} is {@code ASSUMED}). A vocabulary larger than 65,536
 * cannot be stored in uint16 tokens and is refused. (nanoGPT's {@code meta.pkl} is a Python pickle
 * and is not read.)
 *
 * <h2>Checks</h2>
 * The file exists and is not empty, its size is even, and every token is below the vocabulary size
 * (the first offender is reported with its index and byte offset).
 */
public final class NanoGptFormat {
    public static final String FORMAT = "nanogpt";

    private NanoGptFormat() {}

    /**
     * Maps and checks a nanoGPT token file.
     *
     * @param hintOrNull the tokenizer that made the file, or null to assume GPT-2's
     */
    public static TokenShard open(Path bin, TokenizerInfo hintOrNull) {
        TokenizerInfo tokenizer = ShardFiles.tokenizerOr(hintOrNull, TokenizerInfo.GPT2);
        if (tokenizer.vocabSize() > 65536) {
            throw new ShardFormatException(bin, "tokenizer " + tokenizer.describe()
                    + " has more ids than nanoGPT's uint16 tokens can hold (65536)");
        }
        FileChannel ch = ShardFiles.openRead(bin, "a nanoGPT token file");
        TokenShard shard;
        try {
            long size = ShardFiles.size(ch, bin);
            if (size == 0) throw new ShardFormatException(bin, "empty: no tokens");
            if (size % 2 != 0) {
                throw new ShardFormatException(bin, "size " + size + " bytes is odd: not whole uint16 tokens (2 bytes each); "
                        + "truncated, or not a nanoGPT token file");
            }
            shard = new TokenShard(bin, ShardFiles.map(ch, bin, 0, size), 2, tokenizer, FORMAT, ShardFiles.origin(hintOrNull));
        } finally {
            ShardFiles.close(ch);
        }
        long bad = shard.firstOutOfVocabulary(tokenizer.vocabSize());
        if (bad >= 0) throw new ShardFormatException(bin, ShardFiles.outOfVocabulary(shard, bad, bad * 2, ""));
        return shard;
    }
}
