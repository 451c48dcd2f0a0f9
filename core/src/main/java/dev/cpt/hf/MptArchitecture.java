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
 * transformers' {@code MptForCausalLM} (MosaicML's MPT; SlimPajama-DC's LBS-7B) and cpt's {@code mpt}
 * in the torch engine. Names: the checkpoint's {@code transformer.X} is the engine's {@code X}
 * ({@code wte}, {@code blocks.N.norm_1}, {@code attn.Wqkv}, {@code attn.out_proj}, {@code norm_2},
 * {@code ffn.up_proj}, {@code ffn.down_proj}, {@code norm_f}); the layouts are the same ([out, in],
 * Wqkv's rows q, k, v stacked), so nothing is permuted. No biases anywhere, the LayerNorms included;
 * the head is tied to {@code wte} ({@code lm_head.weight}, if written, must equal it). ALiBi's
 * {@code attn_config.alibi_bias_max} and {@code layer_norm_epsilon} are taken from the config; what
 * the engine does not compute (no ALiBi, biases, QK LayerNorm, clipped QKV, a softmax or logit scale,
 * another expansion ratio or attention type) is refused by name.
 */
final class MptArchitecture implements HfArchitecture {
    static final String PREFIX = "transformer.";
    static final String HEAD = "lm_head.weight";

    @Override
    public String className() {
        return "MptForCausalLM";
    }

    @Override
    public String modelType() {
        return "mpt";
    }

    @Override
    public String cptArch() {
        return "mpt";
    }

    @Override
    public ModelSpec.Shape shape(JsonNode config, Path file) throws IOException {
        int layers = whole(config, file, "n_layers");
        int d = whole(config, file, "d_model");
        int heads = whole(config, file, "n_heads");
        int context = whole(config, file, "max_seq_len");
        int vocab = whole(config, file, "vocab_size");
        if (d % heads != 0) throw new IOException(file + ": d_model " + d + " is not divisible by n_heads " + heads);
        settings(config, file);
        return new ModelSpec.Shape("mpt", layers, d, heads, context, vocab);
    }

    /** The config's settings, with transformers' MptConfig defaults for a field it leaves out; what cpt's mpt cannot compute is refused. */
    @Override
    public ArchSettings settings(JsonNode config, Path file) throws IOException {
        JsonNode expansion = config.get("expansion_ratio");
        if (expansion != null && !expansion.isNull() && !(expansion.isNumber() && expansion.asDouble() == 4)) {
            throw new IOException(file + ": expansion_ratio " + expansion + ": cpt's mpt MLP is 4 × d_model wide");
        }
        if (!bool(config, file, "no_bias", true)) throw new IOException(file + ": no_bias false: cpt's mpt has no biases");
        String norm = config.path("norm_type").asText("low_precision_layernorm");
        if (!norm.equals("low_precision_layernorm") && !norm.equals("layernorm")) {
            throw new IOException(file + ": norm_type \"" + norm + "\": cpt's mpt has LayerNorms (layernorm, low_precision_layernorm)");
        }
        JsonNode logitScale = config.get("logit_scale");
        if (logitScale != null && !logitScale.isNull()) throw new IOException(file + ": logit_scale " + logitScale + ": cpt's mpt does not scale its logits");
        if (!bool(config, file, "tie_word_embeddings", true)) {
            throw new IOException(file + ": tie_word_embeddings false: MPT's head is its token embedding (wte)");
        }
        JsonNode ffn = config.path("ffn_config").path("ffn_type");
        if (!ffn.isMissingNode() && !ffn.isNull() && !ffn.asText().equals("mptmlp")) {
            throw new IOException(file + ": ffn_config.ffn_type " + ffn + ": cpt's mpt has MPT's MLP (mptmlp) only");
        }
        JsonNode attn = config.path("attn_config");
        if (!attn.isMissingNode() && !attn.isNull() && !attn.isObject()) throw new IOException(file + ": attn_config " + attn + " is not an object");
        if (!bool(attn, file, "attn_config.", "alibi", true)) {
            throw new IOException(file + ": attn_config.alibi false: cpt's mpt places tokens with ALiBi only (no learned positions)");
        }
        String type = attn.path("attn_type").asText("multihead_attention");
        if (!type.equals("multihead_attention")) {
            throw new IOException(file + ": attn_config.attn_type \"" + type + "\": cpt's mpt has multi-head attention only");
        }
        if (bool(attn, file, "attn_config.", "qk_ln", false)) throw new IOException(file + ": attn_config.qk_ln true: cpt's mpt has no QK LayerNorm");
        if (bool(attn, file, "attn_config.", "prefix_lm", false)) throw new IOException(file + ": attn_config.prefix_lm true: cpt's mpt is causal only");
        if (bool(attn, file, "attn_config.", "attn_uses_sequence_id", false)) {
            throw new IOException(file + ": attn_config.attn_uses_sequence_id true: cpt's mpt attends across the whole row");
        }
        for (String f : List.of("clip_qkv", "softmax_scale")) {
            JsonNode n = attn.get(f);
            if (n != null && !n.isNull()) throw new IOException(file + ": attn_config." + f + " " + n + ": cpt's mpt has none (null)");
        }
        double biasMax = number(attn, file, "attn_config.", "alibi_bias_max", 8);
        if (!(biasMax > 0)) throw new IOException(file + ": attn_config.alibi_bias_max " + biasMax + " is not positive");
        double eps = number(config, file, "", "layer_norm_epsilon", 1e-5);
        if (!(eps > 0)) throw new IOException(file + ": layer_norm_epsilon " + eps + " is not positive");
        return new ArchSettings(0, 0, false, eps, true, true, biasMax);
    }

    @Override
    public ObjectNode config(ModelSpec.Shape s, ArchSettings a) {
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.putArray("architectures").add(className());
        c.put("model_type", modelType());
        c.put("vocab_size", s.vocabSize());
        c.put("max_seq_len", s.contextLength());
        c.put("d_model", s.dModel());
        c.put("n_layers", s.layers());
        c.put("n_heads", s.heads());
        c.put("expansion_ratio", 4);
        ObjectNode attn = c.putObject("attn_config");
        attn.put("alibi", true);
        attn.put("alibi_bias_max", a.alibiBiasMax());
        attn.put("attn_type", "multihead_attention");
        attn.put("attn_impl", "torch");
        attn.put("attn_pdrop", 0.0);
        attn.putNull("clip_qkv");
        attn.putNull("softmax_scale");
        attn.put("qk_ln", false);
        attn.put("prefix_lm", false);
        attn.put("attn_uses_sequence_id", false);
        c.put("no_bias", true);
        c.put("norm_type", "low_precision_layernorm");
        c.put("layer_norm_epsilon", a.layerNormEps());
        c.put("learned_pos_emb", false);
        c.putNull("logit_scale");
        c.put("tie_word_embeddings", true);
        // cpt trains without dropout.
        c.put("emb_pdrop", 0.0);
        c.put("resid_pdrop", 0.0);
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
        m.put("wte.weight", new int[] {s.vocabSize(), c});
        for (int l = 0; l < s.layers(); l++) {
            String p = "blocks." + l + ".";
            m.put(p + "norm_1.weight", new int[] {c});
            m.put(p + "attn.Wqkv.weight", new int[] {3 * c, c});
            m.put(p + "attn.out_proj.weight", new int[] {c, c});
            m.put(p + "norm_2.weight", new int[] {c});
            m.put(p + "ffn.up_proj.weight", new int[] {4 * c, c});
            m.put(p + "ffn.down_proj.weight", new int[] {c, 4 * c});
        }
        m.put("norm_f.weight", new int[] {c});
        return m;
    }

    @Override
    public Map<String, Tensor> toCpt(Map<String, SafetensorsFiles.Entry> stored, ModelSpec.Shape s, ArchSettings a, Path dir)
            throws IOException {
        Map<String, Tensor> out = new LinkedHashMap<>();
        Set<String> used = new HashSet<>();
        for (var e : cptTensors(s, a).entrySet()) {
            String name = PREFIX + e.getKey();
            SafetensorsFiles.Entry entry = stored.get(name);
            if (entry == null) throw new IOException(dir + ": missing tensor " + name + " (a " + className() + " of this config needs it)");
            if (!Arrays.equals(entry.shape(), e.getValue())) {
                throw new IOException(entry.file() + ": tensor " + name + " has shape " + Arrays.toString(entry.shape())
                        + ", config.json's model needs " + Arrays.toString(e.getValue()));
            }
            out.put(e.getKey(), entry.read());
            used.add(name);
        }
        SafetensorsFiles.Entry head = stored.get(HEAD);
        if (head != null) {
            // A tied model saved with its head written out: it must be the embedding.
            used.add(HEAD);
            if (!head.read().sameAs(out.get("wte.weight"))) {
                throw new IOException(head.file() + ": " + HEAD + " differs from " + PREFIX + "wte.weight, but MPT's head is tied to it");
            }
        }
        List<String> extra = new ArrayList<>();
        for (String n : stored.keySet()) if (!used.contains(n)) extra.add(n);
        if (!extra.isEmpty()) {
            throw new IOException(dir + ": holds tensors a " + className() + " of this config does not have (cpt's mpt has no biases and no "
                    + "positional embedding): " + (extra.size() > 8 ? extra.subList(0, 8) + " and " + (extra.size() - 8) + " more" : extra));
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
            out.put(PREFIX + e.getKey(), t);
        }
        return out;
    }
}
