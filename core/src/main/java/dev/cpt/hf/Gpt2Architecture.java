package dev.cpt.hf;

import static dev.cpt.hf.ConfigFields.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cpt.spec.ModelSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * transformers' {@code GPT2LMHeadModel} and cpt's {@code gpt2}: the same computation (learned
 * positions, pre-LayerNorm with eps 1e-5, tanh-GELU MLP 4×, scaled attention, tied head), so the
 * mapping is names and one layout. transformers' Conv1D stores each linear weight [in, out], cpt
 * [out, in]: {@code c_attn}, both {@code c_proj} and {@code c_fc} are transposed each way;
 * {@code c_attn}'s output splits q, k, v in that order in both. Names may carry the
 * {@code transformer.} prefix (as GPT2LMHeadModel saves them) or not (the hub's {@code gpt2});
 * export writes the prefix. {@code lm_head.weight} is ignored when it equals {@code wte}.
 */
final class Gpt2Architecture implements HfArchitecture {
    static final String PREFIX = "transformer.";
    /** The simulator's LayerNorm epsilon (and torch's default). */
    static final double EPSILON = 1e-5;
    /** The activation_function values that are GELU's tanh approximation. */
    static final Set<String> TANH_GELU = Set.of("gelu_new", "gelu_pytorch_tanh", "gelu_fast");
    private static final String[] CONV1D = {"attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"};

    @Override
    public String className() {
        return "GPT2LMHeadModel";
    }

    @Override
    public String modelType() {
        return "gpt2";
    }

    @Override
    public String cptArch() {
        return "gpt2";
    }

    @Override
    public ModelSpec.Shape shape(JsonNode config, Path file) throws IOException {
        int layers = whole(config, file, "n_layer");
        int dModel = whole(config, file, "n_embd");
        int heads = whole(config, file, "n_head");
        int vocab = whole(config, file, "vocab_size");
        int context;
        if (config.hasNonNull("n_positions")) {
            context = whole(config, file, "n_positions");
            if (config.hasNonNull("n_ctx") && whole(config, file, "n_ctx") != context) {
                throw new IOException(file + ": n_ctx " + config.get("n_ctx") + " disagrees with n_positions " + context);
            }
        } else {
            context = whole(config, file, "n_ctx");
        }
        if (dModel % heads != 0) throw new IOException(file + ": n_embd " + dModel + " is not divisible by n_head " + heads);
        String act = config.path("activation_function").asText("gelu_new");
        if (!TANH_GELU.contains(act)) {
            throw new IOException(file + ": activation_function \"" + act + "\": cpt's gpt2 computes GELU's tanh approximation ("
                    + String.join(", ", TANH_GELU.stream().sorted().toList()) + ") only");
        }
        double eps = config.path("layer_norm_epsilon").asDouble(EPSILON);
        if (Math.abs(eps - EPSILON) > 1e-12) {
            throw new IOException(file + ": layer_norm_epsilon " + eps + ": cpt's gpt2 LayerNorms use " + EPSILON + " only");
        }
        JsonNode inner = config.get("n_inner");
        if (inner != null && !inner.isNull() && inner.asInt() != 4 * dModel) {
            throw new IOException(file + ": n_inner " + inner + ": cpt's gpt2 MLP is 4 × n_embd = " + 4 * dModel + " wide");
        }
        refuseIf(config, file, "scale_attn_weights", false, "cpt's gpt2 scales attention by 1/√head_dim");
        refuseIf(config, file, "scale_attn_by_inverse_layer_idx", true, "cpt's gpt2 does not scale attention by layer");
        refuseIf(config, file, "add_cross_attention", true, "cpt's gpt2 is a decoder without cross-attention");
        return new ModelSpec.Shape("gpt2", layers, dModel, heads, context, vocab);
    }

    private static void refuseIf(JsonNode config, Path file, String field, boolean value, String why) throws IOException {
        JsonNode n = config.get(field);
        if (n != null && n.isBoolean() && n.asBoolean() == value) throw new IOException(file + ": " + field + " " + value + ": " + why);
    }

    @Override
    public ObjectNode config(ModelSpec.Shape s, ArchSettings settings) {
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.putArray("architectures").add(className());
        c.put("model_type", modelType());
        c.put("vocab_size", s.vocabSize());
        c.put("n_positions", s.contextLength());
        c.put("n_ctx", s.contextLength());
        c.put("n_embd", s.dModel());
        c.put("n_layer", s.layers());
        c.put("n_head", s.heads());
        c.putNull("n_inner");
        c.put("activation_function", "gelu_new");
        c.put("layer_norm_epsilon", EPSILON);
        // cpt trains without dropout; these say so rather than carry GPT-2's 0.1 into a fine-tune.
        c.put("resid_pdrop", 0.0);
        c.put("embd_pdrop", 0.0);
        c.put("attn_pdrop", 0.0);
        c.put("initializer_range", 0.02);
        c.put("scale_attn_weights", true);
        c.put("scale_attn_by_inverse_layer_idx", false);
        c.put("reorder_and_upcast_attn", false);
        c.put("tie_word_embeddings", true);
        c.put("use_cache", true);
        c.put("torch_dtype", "float32");
        return c;
    }

    /** cpt's names for a shape, in cpt's order, each with its [out, in] shape. */
    static Map<String, int[]> cptTensors(ModelSpec.Shape s) {
        int c = s.dModel();
        Map<String, int[]> m = new LinkedHashMap<>();
        m.put("wte.weight", new int[] {s.vocabSize(), c});
        m.put("wpe.weight", new int[] {s.contextLength(), c});
        for (int l = 0; l < s.layers(); l++) {
            String p = "h." + l + ".";
            m.put(p + "ln_1.weight", new int[] {c});
            m.put(p + "ln_1.bias", new int[] {c});
            m.put(p + "attn.c_attn.weight", new int[] {3 * c, c});
            m.put(p + "attn.c_attn.bias", new int[] {3 * c});
            m.put(p + "attn.c_proj.weight", new int[] {c, c});
            m.put(p + "attn.c_proj.bias", new int[] {c});
            m.put(p + "ln_2.weight", new int[] {c});
            m.put(p + "ln_2.bias", new int[] {c});
            m.put(p + "mlp.c_fc.weight", new int[] {4 * c, c});
            m.put(p + "mlp.c_fc.bias", new int[] {4 * c});
            m.put(p + "mlp.c_proj.weight", new int[] {c, 4 * c});
            m.put(p + "mlp.c_proj.bias", new int[] {c});
        }
        m.put("ln_f.weight", new int[] {c});
        m.put("ln_f.bias", new int[] {c});
        return m;
    }

    @Override
    public Map<String, int[]> cptTensors(ModelSpec.Shape s, ArchSettings settings) {
        return cptTensors(s);
    }

    private static boolean conv1d(String cptName) {
        for (String suffix : CONV1D) if (cptName.endsWith(suffix)) return true;
        return false;
    }

    /** The causal-mask buffers older transformers saved with the weights. */
    private static boolean buffer(String name) {
        return name.matches("(transformer\\.)?h\\.\\d+\\.attn\\.(bias|masked_bias)");
    }

    @Override
    public Map<String, Tensor> toCpt(Map<String, SafetensorsFiles.Entry> stored, ModelSpec.Shape s, ArchSettings settings, Path dir)
            throws IOException {
        boolean prefixed = stored.keySet().stream().anyMatch(n -> n.startsWith(PREFIX));
        String prefix = prefixed ? PREFIX : "";
        Map<String, Tensor> out = new LinkedHashMap<>();
        Set<String> used = new java.util.HashSet<>();
        for (var e : cptTensors(s).entrySet()) {
            String name = prefix + e.getKey();
            SafetensorsFiles.Entry entry = stored.get(name);
            if (entry == null) throw new IOException(dir + ": missing tensor " + name + " (a " + className() + " of this config needs it)");
            int[] want = conv1d(e.getKey()) ? new int[] {e.getValue()[1], e.getValue()[0]} : e.getValue();
            if (!Arrays.equals(entry.shape(), want)) {
                throw new IOException(entry.file() + ": tensor " + name + " has shape " + Arrays.toString(entry.shape())
                        + ", config.json's model needs " + Arrays.toString(want));
            }
            Tensor t = entry.read();
            out.put(e.getKey(), conv1d(e.getKey()) ? t.transposed() : t);
            used.add(name);
        }
        SafetensorsFiles.Entry head = stored.get("lm_head.weight");
        if (head != null) {
            used.add("lm_head.weight");
            Tensor h = head.read();
            if (!h.sameAs(out.get("wte.weight"))) {
                throw new IOException(head.file() + ": lm_head.weight differs from " + prefix + "wte.weight; cpt's gpt2 ties the head to the token embedding");
            }
        }
        List<String> extra = new ArrayList<>();
        for (String n : stored.keySet()) if (!used.contains(n) && !buffer(n)) extra.add(n);
        if (!extra.isEmpty()) {
            throw new IOException(dir + ": holds tensors a " + className() + " of this config does not have: "
                    + (extra.size() > 8 ? extra.subList(0, 8) + " and " + (extra.size() - 8) + " more" : extra));
        }
        return out;
    }

    @Override
    public Map<String, Tensor> toHf(Map<String, Tensor> cpt, ModelSpec.Shape s, ArchSettings settings) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : cptTensors(s).entrySet()) {
            Tensor t = cpt.get(e.getKey());
            if (t == null || !Arrays.equals(t.shape(), e.getValue())) {
                throw new IllegalArgumentException("cpt tensor " + e.getKey() + " is " + (t == null ? "missing" : "of shape " + Arrays.toString(t.shape()))
                        + ", the model needs " + Arrays.toString(e.getValue()));
            }
            out.put(PREFIX + e.getKey(), conv1d(e.getKey()) ? t.transposed() : t);
        }
        return out;
    }
}
