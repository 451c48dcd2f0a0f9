package dev.cpt.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cpt.record.AtomicFiles;
import dev.cpt.record.RunDirectory;
import dev.cpt.spec.ModelSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * A Hugging Face model directory: {@code config.json}, safetensors weights (one file or shards with
 * an index) and, when there is one, {@code tokenizer.json}. Read into cpt's shape and tensors, or
 * written from them, through the directory's {@link HfArchitecture}.
 */
public final class HfModel {
    private HfModel() {}

    public static final String CONFIG = "config.json";
    public static final String TOKENIZER = "tokenizer.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A model read from a directory: its architecture, shape and cpt's tensors. */
    public record Loaded(HfArchitecture architecture, ModelSpec.Shape shape, ArchSettings settings, Map<String, Tensor> tensors) {}

    /** The architecture and shape config.json gives, without reading any weights. */
    public record Described(HfArchitecture architecture, ModelSpec.Shape shape, ArchSettings settings) {}

    public static Described describe(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new IOException(dir + ": no such directory");
        Path file = dir.resolve(CONFIG);
        if (!Files.isRegularFile(file)) throw new IOException(dir + ": has no " + CONFIG);
        JsonNode config;
        try {
            config = JSON.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(file + ": is not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (config == null || !config.isObject()) throw new IOException(file + ": is not a JSON object");
        HfArchitecture arch = HfArchitecture.forConfig(config, file);
        ModelSpec.Shape shape = arch.shape(config, file);
        return new Described(arch, shape, arch.settings(config, file));
    }

    public static Loaded read(Path dir) throws IOException {
        Described d = describe(dir);
        Map<String, SafetensorsFiles.Entry> stored = SafetensorsFiles.open(dir);
        return new Loaded(d.architecture(), d.shape(), d.settings(), d.architecture().toCpt(stored, d.shape(), d.settings(), dir));
    }

    /** The directory's tokenizer.json, if it has one. */
    public static Optional<Path> tokenizer(Path dir) {
        Path t = dir.resolve(TOKENIZER);
        return Files.isRegularFile(t) ? Optional.of(t) : Optional.empty();
    }

    /** The architecture that exports cpt's {@code arch}. */
    public static HfArchitecture forCptArch(String arch) {
        for (HfArchitecture a : HfArchitecture.KNOWN) if (a.cptArch().equals(arch)) return a;
        throw new IllegalArgumentException("cpt cannot export \"" + arch + "\" models to Hugging Face's format yet; it maps "
                + String.join(", ", HfArchitecture.KNOWN.stream().map(HfArchitecture::cptArch).toList()));
    }

    /**
     * Writes a model directory at {@code out}: everything goes into a temporary sibling that is
     * renamed into place last, so {@code out} is whole or absent. {@code out} must not exist yet.
     */
    public static void write(Path out, ModelSpec.Shape shape, Map<String, Tensor> cptTensors, Path tokenizer, long maxShardBytes)
            throws IOException {
        write(out, shape, ArchSettings.defaults(shape.arch()), cptTensors, tokenizer, maxShardBytes);
    }

    /** As above, for a model whose {@code settings} config.json records (a neox imported from a checkpoint keeps its own). */
    public static void write(Path out, ModelSpec.Shape shape, ArchSettings settings, Map<String, Tensor> cptTensors, Path tokenizer,
                             long maxShardBytes) throws IOException {
        HfArchitecture arch = forCptArch(shape.arch());
        if (Files.exists(out)) throw new IOException(out + ": already exists; choose a new directory to export into");
        Path parent = out.toAbsolutePath().normalize().getParent();
        Files.createDirectories(parent);
        Path tmp = parent.resolve("." + out.getFileName() + ".tmp");
        RunDirectory.deleteTree(tmp);
        Files.createDirectories(tmp);
        try {
            SafetensorsFiles.write(tmp, arch.toHf(cptTensors, shape, settings), maxShardBytes);
            ObjectNode config = arch.config(shape, settings);
            AtomicFiles.writeString(tmp.resolve(CONFIG), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config) + "\n");
            if (tokenizer != null) Files.copy(tokenizer, tmp.resolve(TOKENIZER));
            AtomicFiles.move(tmp, out);
        } finally {
            RunDirectory.deleteTree(tmp);
        }
    }
}
