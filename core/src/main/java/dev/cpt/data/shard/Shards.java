package dev.cpt.data.shard;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.cpt.record.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens a token file of any format cpt reads, telling the format from the files themselves.
 *
 * <p>Detection of {@code PATH}, in this order:
 * <ol>
 * <li><b>cpt-tokens</b> ({@link CptTokensFormat}): a sidecar {@code NAME.json} (for {@code NAME.bin},
 *     or {@code PATH} itself given without {@code .bin}, or given as the sidecar) whose
 *     {@code "format"} is {@code "cpt-tokens"}. A sidecar that is not valid JSON is an error, not a
 *     reason to guess another format; a valid JSON file with another {@code format} is ignored.</li>
 * <li><b>Megatron</b> ({@link MegatronFormat}): {@code PATH} ends with {@code .idx}, or
 *     {@code PREFIX.idx} exists, where {@code PREFIX} is {@code PATH} without its {@code .bin} (or
 *     {@code PATH} itself) — so the prefix, {@code PREFIX.bin} and {@code PREFIX.idx} all work.</li>
 * <li><b>llm.c</b> ({@link LlmcFormat}): the file's first 4 bytes, as a little-endian int32, are
 *     20240520 or 20240801.</li>
 * <li><b>nanoGPT</b> ({@link NanoGptFormat}): any other file named {@code *.bin}, read as raw uint16
 *     tokens.</li>
 * </ol>
 * Anything else is a {@link ShardFormatException} naming the file and what was looked for.
 *
 * <p>The tokenizer: cpt-tokens records its own (a hint that disagrees with it is an error); the other
 * formats record none, so the hint is used, or the format's usual tokenizer is assumed (GPT-2, or
 * Llama 3 for llm.c's uint32 files) and the returned shard says so ({@link TokenShard#tokenizerOrigin()}).
 * A nanoGPT file, or a cpt or Megatron {@code .bin} whose sidecar or index is missing (an unfinished
 * write), is read as raw uint16 tokens: the vocabulary check and the tokenizer comparison across a
 * run's files are what catch a wrong guess.
 */
public final class Shards {

    public enum Format { CPT_TOKENS, MEGATRON, LLMC, NANOGPT }

    /** A detected format and the path to give its reader. */
    public record Detected(Format format, Path path) {}

    private Shards() {}

    /**
     * Detects the format of {@code path} and opens it: mapped, checked, every token id checked
     * against the vocabulary.
     *
     * @param hintOrNull the tokenizer for formats that do not record one, or null for their usual one
     */
    public static TokenShard open(Path path, TokenizerInfo hintOrNull) {
        Detected d = detect(path);
        return switch (d.format()) {
            case CPT_TOKENS -> {
                TokenShard s = CptTokensFormat.open(d.path());
                if (hintOrNull != null && !sameTokenizer(hintOrNull, s.tokenizer())) {
                    throw new ShardFormatException(CptTokensFormat.sidecarOf(d.path()), "records tokenizer " + s.tokenizer().describe()
                            + ", but " + hintOrNull.describe() + " was given");
                }
                yield s;
            }
            case MEGATRON -> MegatronFormat.open(d.path(), hintOrNull).tokens();
            case LLMC -> LlmcFormat.open(d.path(), hintOrNull);
            case NANOGPT -> NanoGptFormat.open(d.path(), hintOrNull);
        };
    }

    /** Same tokenizer ({@link dev.cpt.data.tokenize.Tokenizers#sameId}: equal ids, or one tokenizer.json by path or bytes) and vocabulary size. */
    public static boolean sameTokenizer(TokenizerInfo a, TokenizerInfo b) {
        return a.vocabSize() == b.vocabSize() && dev.cpt.data.tokenize.Tokenizers.sameId(a.id(), b.id());
    }

    /** Which format {@code path} is in (see the class comment); reads at most a sidecar and 4 bytes. */
    public static Detected detect(Path path) {
        String name = path.getFileName().toString();
        boolean bare = !name.endsWith(".bin") && !name.endsWith(".idx") && !name.endsWith(".json");

        // 1. cpt-tokens: a sidecar that says so
        Path cptBin = name.endsWith(".json") ? path.resolveSibling(name.substring(0, name.length() - 5) + ".bin")
                : bare && !Files.isRegularFile(path) ? path.resolveSibling(name + ".bin") : path;
        if (!name.endsWith(".idx")) {
            Path sidecar = CptTokensFormat.sidecarOf(cptBin);
            if (Files.isRegularFile(sidecar) && isCptSidecar(sidecar)) return new Detected(Format.CPT_TOKENS, cptBin);
        }

        // 2. Megatron: an index
        Path prefix = MegatronFormat.prefixOf(path);
        if (name.endsWith(".idx") || (!name.endsWith(".json") && Files.exists(MegatronFormat.indexFile(prefix)))) {
            return new Detected(Format.MEGATRON, prefix);
        }

        // 3. and 4.: a single file
        Path file = Files.isRegularFile(path) ? path : bare && Files.isRegularFile(cptBin) ? cptBin : null;
        if (file == null) {
            if (Files.isDirectory(path)) throw new ShardFormatException(path, "is a directory, not a token file");
            throw new ShardFormatException(path, "no such file; looked for " + lookedFor(path, name, bare));
        }
        if (startsWithLlmcMagic(file)) return new Detected(Format.LLMC, file);
        if (file.getFileName().toString().endsWith(".bin")) return new Detected(Format.NANOGPT, file);
        throw new ShardFormatException(file, "not a token file cpt recognises: no cpt sidecar "
                + CptTokensFormat.sidecarOf(file).getFileName() + ", no Megatron index "
                + MegatronFormat.indexFile(prefix).getFileName() + ", no llm.c magic (" + LlmcFormat.MAGIC_GPT2 + " or "
                + LlmcFormat.MAGIC_LLAMA3 + ") in its first 4 bytes, and not named *.bin (read as nanoGPT's raw uint16 tokens)");
    }

    private static String lookedFor(Path path, String name, boolean bare) {
        Path prefix = MegatronFormat.prefixOf(path);
        if (name.endsWith(".json")) return "a cpt shard " + path.resolveSibling(name.substring(0, name.length() - 5) + ".bin");
        String file = bare ? path + " or " + path.resolveSibling(name + ".bin") : path.toString();
        return file + " (a cpt-tokens, llm.c or nanoGPT token file), "
                + CptTokensFormat.sidecarOf(bare ? path.resolveSibling(name + ".bin") : path).getFileName() + " (a cpt sidecar), "
                + MegatronFormat.indexFile(prefix).getFileName() + " (a Megatron index)";
    }

    private static boolean isCptSidecar(Path sidecar) {
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(sidecar.toFile());
        } catch (JsonProcessingException e) {
            throw new ShardFormatException(sidecar, "not valid JSON, so it cannot be told whether this is a cpt-tokens sidecar: "
                    + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ShardFormatException(sidecar, "cannot read: " + e);
        }
        return node != null && node.isObject() && CptTokensFormat.FORMAT.equals(node.path("format").asText(null));
    }

    private static boolean startsWithLlmcMagic(Path file) {
        FileChannel ch = ShardFiles.openRead(file, "a token file");
        try {
            if (ShardFiles.size(ch, file) < 4) return false;
            ByteBuffer b = ShardFiles.read(ch, file, 0, 4);
            return LlmcFormat.isMagic(b.getInt(0));
        } finally {
            ShardFiles.close(ch);
        }
    }
}
