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
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * transformers' {@code GPTNeoXForCausalLM} (Pythia) and cpt's {@code neox} in the torch engine.
 * Names: the checkpoint's {@code gpt_neox.X} is the engine's {@code X} ({@code embed_in},
 * {@code layers.N.input_layernorm}, {@code post_attention_layernorm}, {@code attention.query_key_value},
 * {@code attention.dense}, {@code mlp.dense_h_to_4h}, {@code mlp.dense_4h_to_h},
 * {@code final_layer_norm}); {@code embed_out} is the untied head in both. Linear weights are
 * [out, in] in both. The one layout that differs: {@code query_key_value}'s output is interleaved
 * per head, [heads, 3, head_dim], where cpt stacks q, k, v ([3, heads, head_dim]); weight rows and
 * bias are permuted each way. The buffers {@code attention.bias}, {@code attention.masked_bias} and
 * {@code attention.rotary_emb.inv_freq} are ignored. The config's rotary, residual, epsilon, tying
 * and activation settings are taken as they are ({@link ArchSettings}), none assumed.
 */
final class NeoxArchitecture implements HfArchitecture {
    static final String PREFIX = "gpt_neox.";
    /** hidden_act values that are GELU's tanh approximation; "gelu" is exact. */
    static final Set<String> TANH_GELU = Set.of("gelu_new", "gelu_fast", "gelu_pytorch_tanh");

    @Override
    public String className() {
        return "GPTNeoXForCausalLM";
    }

    @Override
    public String modelType() {
        return "gpt_neox";
    }

    @Override
    public String cptArch() {
        return "neox";
    }

    @Override
    public ModelSpec.Shape shape(JsonNode config, Path file) throws IOException {
        int layers = whole(config, file, "num_hidden_layers");
        int d = whole(config, file, "hidden_size");
        int heads = whole(config, file, "num_attention_heads");
        int context = whole(config, file, "max_position_embeddings");
        int vocab = whole(config, file, "vocab_size");
        if (d % heads != 0) throw new IOException(file + ": hidden_size " + d + " is not divisible by num_attention_heads " + heads);
        if (config.hasNonNull("intermediate_size") && whole(config, file, "intermediate_size") != 4 * d) {
            throw new IOException(file + ": intermediate_size " + config.get("intermediate_size") + ": cpt's neox MLP is 4 × hidden_size = "
                    + 4 * d + " wide");
        }
        JsonNode kv = config.get("num_key_value_heads");
        if (kv != null && !kv.isNull() && kv.asInt() != heads) {
            throw new IOException(file + ": num_key_value_heads " + kv + " differs from num_attention_heads " + heads
                    + ": cpt's neox has no grouped-query attention");
        }
        JsonNode scaling = config.get("rope_scaling");
        if (scaling != null && !scaling.isNull()) throw new IOException(file + ": rope_scaling " + scaling + ": cpt's neox has plain rotary only");
        JsonNode bias = config.get("attention_bias");
        if (bias != null && bias.isBoolean() && !bias.asBoolean()) {
            throw new IOException(file + ": attention_bias false: cpt's neox has biases on query_key_value and dense");
        }
        settings(config, file, d / heads);
        return new ModelSpec.Shape("neox", layers, d, heads, context, vocab);
    }

    @Override
    public ArchSettings settings(JsonNode config, Path file) throws IOException {
        return settings(config, file, whole(config, file, "hidden_size") / whole(config, file, "num_attention_heads"));
    }

    /** The config's settings, with transformers' GPTNeoXConfig defaults for a field it leaves out. */
    private static ArchSettings settings(JsonNode config, Path file, int headDim) throws IOException {
        double pct = agreeing(config, file, "rotary_pct", "partial_rotary_factor", 0.25);
        double base = agreeing(config, file, "rotary_emb_base", "rope_theta", 10000);
        if (!(pct > 0 && pct <= 1)) throw new IOException(file + ": rotary_pct " + pct + " is not in (0, 1]");
        int rot = (int) (headDim * pct);
        if (rot < 2 || rot % 2 != 0) {
            throw new IOException(file + ": rotary_pct " + pct + " of head_dim " + headDim + " rotates " + rot
                    + " dims (int(head_dim × rotary_pct)); the rotary embedding needs an even number, at least 2");
        }
        if (!(base > 0)) throw new IOException(file + ": rotary_emb_base " + base + " is not positive");
        double eps = number(config, file, "layer_norm_eps", 1e-5);
        if (!(eps > 0)) throw new IOException(file + ": layer_norm_eps " + eps + " is not positive");
        boolean parallel = bool(config, file, "use_parallel_residual", true);
        boolean tied = bool(config, file, "tie_word_embeddings", false);
        String act = config.path("hidden_act").asText("gelu");
        boolean exact;
        if ("gelu".equals(act)) {
            exact = true;
        } else if (TANH_GELU.contains(act)) {
            exact = false;
        } else {
            throw new IOException(file + ": hidden_act \"" + act + "\": cpt's neox computes GELU, exact (\"gelu\") or its tanh approximation ("
                    + String.join(", ", TANH_GELU.stream().sorted().toList()) + ")");
        }
        return new ArchSettings(pct, base, parallel, eps, tied, exact);
    }

    /** A number config.json may give under either of two names (transformers renamed some); both given must agree. */
    private static double agreeing(JsonNode config, Path file, String name, String alias, double fallback) throws IOException {
        boolean has = config.hasNonNull(name);
        boolean hasAlias = config.hasNonNull(alias);
        double v = number(config, file, name, fallback);
        if (hasAlias) {
            double a = number(config, file, alias, fallback);
            if (has && a != v) throw new IOException(file + ": " + name + " " + v + " disagrees with " + alias + " " + a);
            return a;
        }
        return v;
    }

    @Override
    public ObjectNode config(ModelSpec.Shape s, ArchSettings a) {
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.putArray("architectures").add(className());
        c.put("model_type", modelType());
        c.put("vocab_size", s.vocabSize());
        c.put("max_position_embeddings", s.contextLength());
        c.put("hidden_size", s.dModel());
        c.put("num_hidden_layers", s.layers());
        c.put("num_attention_heads", s.heads());
        c.put("intermediate_size", 4 * s.dModel());
        c.put("hidden_act", a.exactGelu() ? "gelu" : "gelu_new");
        c.put("rotary_pct", a.rotaryPct());
        c.put("rotary_emb_base", a.rotaryBase());
        c.put("use_parallel_residual", a.parallelResidual());
        c.put("layer_norm_eps", a.layerNormEps());
        c.put("tie_word_embeddings", a.tiedEmbeddings());
        // cpt trains without dropout.
        c.put("attention_dropout", 0.0);
        c.put("hidden_dropout", 0.0);
        c.put("initializer_range", 0.02);
        c.put("use_cache", true);
        c.put("torch_dtype", "float32");
        return c;
    }

    /** The torch engine's names for a shape, in its order, each with its [out, in] shape. */
    @Override
    public Map<String, int[]> cptTensors(ModelSpec.Shape s, ArchSettings a) {
        int c = s.dModel();
        Map<String, int[]> m = new LinkedHashMap<>();
        m.put("embed_in.weight", new int[] {s.vocabSize(), c});
        for (int l = 0; l < s.layers(); l++) {
            String p = "layers." + l + ".";
            m.put(p + "input_layernorm.weight", new int[] {c});
            m.put(p + "input_layernorm.bias", new int[] {c});
            m.put(p + "post_attention_layernorm.weight", new int[] {c});
            m.put(p + "post_attention_layernorm.bias", new int[] {c});
            m.put(p + "attention.query_key_value.weight", new int[] {3 * c, c});
            m.put(p + "attention.query_key_value.bias", new int[] {3 * c});
            m.put(p + "attention.dense.weight", new int[] {c, c});
            m.put(p + "attention.dense.bias", new int[] {c});
            m.put(p + "mlp.dense_h_to_4h.weight", new int[] {4 * c, c});
            m.put(p + "mlp.dense_h_to_4h.bias", new int[] {4 * c});
            m.put(p + "mlp.dense_4h_to_h.weight", new int[] {c, 4 * c});
            m.put(p + "mlp.dense_4h_to_h.bias", new int[] {c});
        }
        m.put("final_layer_norm.weight", new int[] {c});
        m.put("final_layer_norm.bias", new int[] {c});
        if (!a.tiedEmbeddings()) m.put("embed_out.weight", new int[] {s.vocabSize(), c});
        return m;
    }

    /** The checkpoint's name of an engine tensor. */
    static String hfName(String cptName) {
        return cptName.equals("embed_out.weight") ? cptName : PREFIX + cptName;
    }

    /** Buffers transformers keeps in (older) GPT-NeoX checkpoints: causal masks and rotary frequencies. */
    private static boolean buffer(String name) {
        return name.matches("gpt_neox\\.layers\\.\\d+\\.attention\\.(bias|masked_bias|rotary_emb\\.inv_freq)");
    }

    private static boolean interleaved(String cptName) {
        return cptName.contains("attention.query_key_value.");
    }

    /**
     * Rows of query_key_value (weight [3d, in] or bias [3d]) from one order to the other: HF's row
     * (h·3 + j)·hd + e is cpt's row j·d + h·hd + e (j: q, k, v). {@code toCpt} picks the direction.
     */
    static Tensor permuteQkv(Tensor t, int heads, boolean toCpt) {
        int rows = t.shape()[0];
        int cols = t.shape().length == 2 ? t.shape()[1] : 1;
        int d = rows / 3;
        int hd = d / heads;
        float[] out = new float[t.data().length];
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < 3; j++) {
                for (int e = 0; e < hd; e++) {
                    int hf = (h * 3 + j) * hd + e;
                    int cpt = j * d + h * hd + e;
                    int from = toCpt ? hf : cpt;
                    int to = toCpt ? cpt : hf;
                    System.arraycopy(t.data(), from * cols, out, to * cols, cols);
                }
            }
        }
        return new Tensor(t.shape().clone(), out);
    }

    @Override
    public Map<String, Tensor> toCpt(Map<String, SafetensorsFiles.Entry> stored, ModelSpec.Shape s, ArchSettings a, Path dir)
            throws IOException {
        Map<String, Tensor> out = new LinkedHashMap<>();
        Set<String> used = new HashSet<>();
        for (var e : cptTensors(s, a).entrySet()) {
            String name = hfName(e.getKey());
            SafetensorsFiles.Entry entry = stored.get(name);
            if (entry == null) throw new IOException(dir + ": missing tensor " + name + " (a " + className() + " of this config needs it)");
            if (!Arrays.equals(entry.shape(), e.getValue())) {
                throw new IOException(entry.file() + ": tensor " + name + " has shape " + Arrays.toString(entry.shape())
                        + ", config.json's model needs " + Arrays.toString(e.getValue()));
            }
            Tensor t = entry.read();
            out.put(e.getKey(), interleaved(e.getKey()) ? permuteQkv(t, s.heads(), true) : t);
            used.add(name);
        }
        SafetensorsFiles.Entry head = stored.get("embed_out.weight");
        if (a.tiedEmbeddings() && head != null) {
            // A tied model saved with its head written out: it must be the embedding.
            used.add("embed_out.weight");
            if (!head.read().sameAs(out.get("embed_in.weight"))) {
                throw new IOException(head.file() + ": embed_out.weight differs from " + PREFIX + "embed_in.weight, but config.json "
                        + "says tie_word_embeddings true");
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
    public Map<String, Tensor> toHf(Map<String, Tensor> cpt, ModelSpec.Shape s, ArchSettings a) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : cptTensors(s, a).entrySet()) {
            Tensor t = cpt.get(e.getKey());
            if (t == null || !Arrays.equals(t.shape(), e.getValue())) {
                throw new IllegalArgumentException("cpt tensor " + e.getKey() + " is " + (t == null ? "missing" : "of shape " + Arrays.toString(t.shape()))
                        + ", the model needs " + Arrays.toString(e.getValue()));
            }
            out.put(hfName(e.getKey()), interleaved(e.getKey()) ? permuteQkv(t, s.heads(), false) : t);
        }
        return out;
    }
}
