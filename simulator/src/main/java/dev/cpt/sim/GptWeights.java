package dev.cpt.sim;

import dev.cpt.spec.ModelSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code gpt2} model's weights as a safetensors file: the file the simulator saves and loads, and
 * the one the torch engine (and {@code reference_gpt.py}) reads.
 *
 * <p>Tensor names follow Hugging Face GPT-2 ({@code wte.weight}, {@code wpe.weight},
 * {@code h.{i}.ln_1.weight}, {@code h.{i}.attn.c_attn.weight}, ..., {@code ln_f.bias}). <b>Layout:
 * every linear weight is [out, in]</b> — torch {@code nn.Linear.weight}'s layout, so
 * {@code linear.weight.copy_(tensor)} works as is — whereas HF GPT-2's Conv1D stores [in, out]; to
 * load into HF GPT-2, transpose the four {@code c_attn/c_proj/c_fc} weights. {@code c_attn} holds
 * q, k, v stacked along "out" in that order. The LM head is tied to {@code wte} and not stored.
 * The {@code __metadata__} says so ({@code layout}) and gives the shape ({@code arch}, {@code layers},
 * {@code dModel}, {@code heads}, {@code contextLength}, {@code vocabSize}).
 */
public final class GptWeights {
    private GptWeights() {}

    public static final String FORMAT = "cpt-gpt2";
    public static final String LAYOUT = "linear weights [out, in] (torch nn.Linear); HF GPT-2 Conv1D is [in, out]";

    public static void write(Path file, GptModel model) throws IOException {
        List<SafeTensors.Source> list = new ArrayList<>();
        for (ParameterTensors.Tensor t : model.layout().tensors()) {
            list.add(new SafeTensors.Source(t.name(), t.shape(), model.params(), t.offset()));
        }
        SafeTensors.write(file, metadata(model.shape()), list);
    }

    /** Replaces the model's weights with the file's, after checking every tensor; nothing changes on error. */
    public static void read(Path file, GptModel model) throws IOException {
        float[] next = readParams(file, model.layout());
        System.arraycopy(next, 0, model.params(), 0, next.length);
        model.parametersChanged();
    }

    /** The file's weights in {@code layout}'s flat order, after checking the shape and every tensor. */
    static float[] readParams(Path file, ParameterTensors layout) throws IOException {
        SafeTensors.Contents c = SafeTensors.read(file);
        checkShape(file, c.metadata(), layout.shape());
        float[] params = new float[layout.size()];
        copyAll(file, c, layout, "", params);
        return params;
    }

    static Map<String, String> metadata(ModelSpec.Shape s) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("arch", s.arch());
        m.put("layers", Integer.toString(s.layers()));
        m.put("dModel", Integer.toString(s.dModel()));
        m.put("heads", Integer.toString(s.heads()));
        m.put("contextLength", Integer.toString(s.contextLength()));
        m.put("vocabSize", Integer.toString(s.vocabSize()));
        m.put("layout", LAYOUT);
        return m;
    }

    /** The file's metadata must describe this model's shape (when it describes one at all). */
    static void checkShape(Path file, Map<String, String> meta, ModelSpec.Shape s) throws IOException {
        Map<String, String> want = metadata(s);
        for (String key : List.of("arch", "layers", "dModel", "heads", "contextLength", "vocabSize")) {
            String have = meta.get(key);
            if (have != null && !have.equals(want.get(key))) {
                throw new IOException(file + ": holds a model with " + key + " " + have + ", this engine's model has "
                        + key + " " + want.get(key));
            }
        }
    }

    /** Copies each of the layout's tensors, named {@code prefix + name}, into {@code dst}; checks shapes and completeness. */
    static void copyAll(Path file, SafeTensors.Contents c, ParameterTensors layout, String prefix, float[] dst)
            throws IOException {
        for (ParameterTensors.Tensor t : layout.tensors()) {
            SafeTensors.Tensor found = c.tensors().get(prefix + t.name());
            if (found == null) throw new IOException(file + ": has no tensor " + prefix + t.name());
            if (!Arrays.equals(found.shape(), t.shape())) {
                throw new IOException(file + ": tensor " + prefix + t.name() + " has shape " + Arrays.toString(found.shape())
                        + ", this engine's model needs " + Arrays.toString(t.shape()));
            }
            System.arraycopy(found.data(), 0, dst, t.offset(), t.size());
        }
        if (c.tensors().size() != layout.tensors().size()) {
            List<String> extra = new ArrayList<>(c.tensors().keySet());
            for (ParameterTensors.Tensor t : layout.tensors()) extra.remove(prefix + t.name());
            throw new IOException(file + ": has tensors this model does not: " + extra);
        }
    }
}
