package dev.cpt.data.shard;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.cpt.record.AtomicFiles;
import dev.cpt.record.Json;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * cpt's own shard format: {@code NAME.bin}, raw little-endian tokens (uint16 when the vocabulary
 * fits, else uint32), every document preceded by the end-of-text token; and {@code NAME.json}, a
 * sidecar naming the format, version, token width, counts and the tokenizer. The sidecar is
 * written last, so a shard without one is unfinished.
 *
 * <h2>{@code NAME.bin} byte layout</h2>
 * <pre>
 * offset 0:  token[0] token[1] ... token[n-1]    each w bytes, unsigned little-endian;
 *            w = 2 (uint16) when the tokenizer has at most 65,536 ids, else 4 (uint32)
 * </pre>
 * No header: the file is exactly {@code n × w} bytes. Each document is written as the tokenizer's
 * end-of-text token followed by the document's tokens.
 *
 * <h2>{@code NAME.json} (the sidecar)</h2>
 * <pre>
 * { "format": "cpt-tokens",            always
 *   "version": 1,                      this reader reads 1
 *   "dtype": "uint16" | "uint32",      w above
 *   "tokens": n,                       must match the .bin's size
 *   "documents": 12345,
 *   "tokenizer": { "id": "gpt2", "vocabSize": 50257, "endOfText": 50256 },
 *   "domain": "books" }                optional
 * </pre>
 * For {@code NAME.bin} the sidecar is {@code NAME.json}; for a file not named {@code *.bin}, its
 * name plus {@code .json}. Opening checks the sidecar's fields, the file size against
 * {@code tokens × w}, and every token id against {@code vocabSize}.
 */
public final class CptTokensFormat {
    public static final String FORMAT = "cpt-tokens";
    public static final int VERSION = 1;

    private CptTokensFormat() {}

    /** The sidecar. */
    public record Sidecar(String format, Integer version, String dtype, Long tokens, Long documents,
                          TokenizerInfo tokenizer, String domain) {}

    public static Path sidecarOf(Path bin) {
        String name = bin.getFileName().toString();
        String base = name.endsWith(".bin") ? name.substring(0, name.length() - 4) : name;
        return bin.resolveSibling(base + ".json");
    }

    public static ShardWriter writer(Path bin, TokenizerInfo tokenizer, String domain) throws IOException {
        return new Writer(bin, tokenizer, domain);
    }

    /** Opens and checks a shard: sidecar fields, file size against the token count, every token id. */
    public static TokenShard open(Path bin) {
        Path json = sidecarOf(bin);
        Sidecar s;
        try {
            s = Json.MAPPER.readValue(json.toFile(), Sidecar.class);
        } catch (JsonProcessingException e) {
            throw new ShardFormatException(json, "not a valid sidecar: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ShardFormatException(json, "cannot read the sidecar: " + e);
        }
        if (!FORMAT.equals(s.format())) throw new ShardFormatException(json, "format is " + s.format() + ", not " + FORMAT);
        if (s.version() == null || s.version() != VERSION) {
            throw new ShardFormatException(json, "version " + s.version() + " is not supported (this cpt reads " + VERSION + ")");
        }
        int width = switch (s.dtype() == null ? "" : s.dtype()) {
            case "uint16" -> 2;
            case "uint32" -> 4;
            default -> throw new ShardFormatException(json, "dtype " + s.dtype() + " is neither uint16 nor uint32");
        };
        if (s.tokens() == null || s.tokens() < 0) throw new ShardFormatException(json, "tokens is missing or negative");
        if (s.tokenizer() == null || s.tokenizer().vocabSize() <= 0) throw new ShardFormatException(json, "tokenizer is missing");
        TokenShard shard = map(bin, 0, s.tokens() * width, width, s.tokenizer());
        shard.checkVocabulary(s.tokenizer().vocabSize(), 0);
        return shard;
    }

    /** Maps {@code byteCount} bytes of {@code file} from {@code offset}, checking the file is that long. */
    static TokenShard map(Path file, long offset, long byteCount, int width, TokenizerInfo tokenizer) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size != offset + byteCount) {
                throw new ShardFormatException(file, (size < offset + byteCount ? "truncated" : "too long") + ": expected "
                        + (offset + byteCount) + " bytes, found " + size);
            }
            var segment = ch.map(FileChannel.MapMode.READ_ONLY, offset, byteCount, Arena.ofAuto());
            return new TokenShard(file, segment, width, tokenizer);
        } catch (NoSuchFileException e) {
            throw new ShardFormatException(file, "no such file");
        } catch (IOException e) {
            throw new ShardFormatException(file, "cannot read: " + e);
        }
    }

    private static final class Writer implements ShardWriter {
        private final Path bin;
        private final Path tmp;
        private final TokenizerInfo tokenizer;
        private final String domain;
        private final int width;
        private final OutputStream out;
        private byte[] bytes = new byte[1 << 12];
        private long tokens;
        private long documents;

        Writer(Path bin, TokenizerInfo tokenizer, String domain) throws IOException {
            this.bin = bin;
            this.tmp = bin.resolveSibling("." + bin.getFileName() + ".tmp");
            this.tokenizer = tokenizer;
            this.domain = domain;
            this.width = tokenizer.vocabSize() <= 65536 ? 2 : 4;
            Files.deleteIfExists(sidecarOf(bin)); // an old sidecar must not vouch for a new, unfinished .bin
            this.out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16);
        }

        @Override
        public void writeDocument(int[] t, int from, int to) throws IOException {
            // Encoded whole into one buffer and written at once: a write call per token was most of prepare's time.
            int n = to - from + 1;
            if (bytes.length < n * width) bytes = new byte[Math.max(n * width, bytes.length * 2)];
            int at = put(tokenizer.endOfText(), 0);
            for (int i = from; i < to; i++) {
                if (t[i] < 0 || t[i] >= tokenizer.vocabSize()) {
                    throw new IllegalArgumentException("token " + t[i] + " is not below the vocabulary size " + tokenizer.vocabSize());
                }
                at = put(t[i], at);
            }
            out.write(bytes, 0, at);
            tokens += n;
            documents++;
        }

        private int put(int token, int at) {
            bytes[at] = (byte) token;
            bytes[at + 1] = (byte) (token >>> 8);
            if (width == 4) {
                bytes[at + 2] = (byte) (token >>> 16);
                bytes[at + 3] = (byte) (token >>> 24);
                return at + 4;
            }
            return at + 2;
        }

        @Override
        public long tokens() {
            return tokens;
        }

        @Override
        public long documents() {
            return documents;
        }

        @Override
        public void close() throws IOException {
            out.close();
            AtomicFiles.move(tmp, bin);
            AtomicFiles.writeJson(sidecarOf(bin), new Sidecar(FORMAT, VERSION, width == 2 ? "uint16" : "uint32",
                    tokens, documents, tokenizer, domain));
        }
    }
}
