package dev.cpt.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cpt.spec.ModelSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One transformers model class and how its checkpoints map onto cpt's: the config's fields onto a
 * {@link ModelSpec.Shape}, and tensor names and layouts onto cpt's own (the names and [out, in]
 * linear layout of {@code GptWeights}, which both engines read). Import and export both go through
 * the one implementation, so they cannot disagree. What the model computes beyond its shape (rotary,
 * residual, epsilon, tying, activation) is the config's {@link ArchSettings}.
 */
public interface HfArchitecture {

    /** The architectures cpt maps; {@link #forConfig} picks one by {@code architectures} or {@code model_type}. */
    List<HfArchitecture> KNOWN = List.of(new Gpt2Architecture(), new NeoxArchitecture(), new MptArchitecture());

    /** transformers' class name, as config.json's {@code architectures} lists it (e.g. {@code GPT2LMHeadModel}). */
    String className();

    /** config.json's {@code model_type} (e.g. {@code gpt2}). */
    String modelType();

    /** cpt's {@code model.arch} of these checkpoints. */
    String cptArch();

    /**
     * The shape config.json describes; a config that asks for what cpt's {@link #cptArch()} cannot
     * compute (another activation, epsilon, untied head, ...) is refused, naming the field and value.
     */
    ModelSpec.Shape shape(JsonNode config, Path configFile) throws IOException;

    /**
     * The settings config.json gives beyond the shape (call after {@link #shape}, which has
     * checked them); the architecture's {@link ArchSettings#defaults} where it has no choices.
     */
    default ArchSettings settings(JsonNode config, Path configFile) throws IOException {
        return ArchSettings.defaults(cptArch());
    }

    /** config.json for a model of {@code shape} and {@code settings}, loadable by transformers as {@link #className()}. */
    ObjectNode config(ModelSpec.Shape shape, ArchSettings settings);

    /**
     * cpt's tensors from a checkpoint's: every tensor the shape needs must be there with its shape
     * (a missing one, or a wrong shape, is named with what was expected); buffers are ignored and
     * anything else the architecture does not have is refused.
     */
    Map<String, Tensor> toCpt(Map<String, SafetensorsFiles.Entry> stored, ModelSpec.Shape shape, ArchSettings settings, Path dir)
            throws IOException;

    /** The checkpoint's tensors (names and layouts as transformers saves them) from cpt's. */
    Map<String, Tensor> toHf(Map<String, Tensor> cpt, ModelSpec.Shape shape, ArchSettings settings);

    /** cpt's tensors of a model of {@code shape} and {@code settings}: names in cpt's order, each with its [out, in] shape. */
    Map<String, int[]> cptTensors(ModelSpec.Shape shape, ArchSettings settings);

    /** The architecture a config.json names; an unknown one is refused with the ones cpt maps. */
    static HfArchitecture forConfig(JsonNode config, Path configFile) throws IOException {
        JsonNode archs = config.path("architectures");
        String type = config.path("model_type").asText(null);
        for (HfArchitecture a : KNOWN) {
            if (archs.isArray()) {
                for (JsonNode n : archs) if (a.className().equals(n.asText())) return a;
            } else if (a.modelType().equals(type)) {
                return a;
            }
        }
        String named = archs.isArray() ? "architectures " + archs : "model_type " + (type == null ? "(none)" : "\"" + type + "\"");
        StringBuilder known = new StringBuilder();
        for (HfArchitecture a : KNOWN) known.append(known.isEmpty() ? "" : ", ").append(a.className()).append(" (").append(a.modelType()).append(')');
        throw new IOException(configFile + ": unknown architecture: " + named + "; cpt maps " + known);
    }
}
