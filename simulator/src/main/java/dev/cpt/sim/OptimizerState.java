package dev.cpt.sim;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * AdamW's state as a safetensors file next to the weights: each parameter's first and second
 * moments as {@code exp_avg.<name>} and {@code exp_avg_sq.<name>} (torch's names), the step count in
 * the metadata ({@code step}), along with the model shape so a mismatch is caught.
 */
final class OptimizerState {
    private OptimizerState() {}

    static final String M = "exp_avg.";
    static final String V = "exp_avg_sq.";

    static void write(Path file, GptModel model, AdamW adam) throws IOException {
        List<SafeTensors.Source> list = new ArrayList<>();
        for (ParameterTensors.Tensor t : model.layout().tensors()) {
            list.add(new SafeTensors.Source(M + t.name(), t.shape(), adam.firstMoment(), t.offset()));
        }
        for (ParameterTensors.Tensor t : model.layout().tensors()) {
            list.add(new SafeTensors.Source(V + t.name(), t.shape(), adam.secondMoment(), t.offset()));
        }
        Map<String, String> meta = new java.util.LinkedHashMap<>(GptWeights.metadata(model.shape()));
        meta.put("format", "cpt-adamw");
        meta.put("step", Long.toString(adam.step()));
        SafeTensors.write(file, meta, list);
    }

    /** AdamW's moments and step, read and checked. */
    record Loaded(float[] m, float[] v, long step) {
        void applyTo(AdamW adam) {
            System.arraycopy(m, 0, adam.firstMoment(), 0, m.length);
            System.arraycopy(v, 0, adam.secondMoment(), 0, v.length);
            adam.restore(step);
        }
    }

    static Loaded read(Path file, GptModel model) throws IOException {
        SafeTensors.Contents c = SafeTensors.read(file);
        GptWeights.checkShape(file, c.metadata(), model.shape());
        String stepText = c.metadata().get("step");
        long step;
        try {
            step = Long.parseLong(stepText);
        } catch (NumberFormatException e) {
            throw new IOException(file + ": metadata \"step\" is " + (stepText == null ? "missing" : "\"" + stepText + "\"")
                    + ", not a step count");
        }
        if (step < 0) throw new IOException(file + ": metadata \"step\" is negative (" + step + ")");
        ParameterTensors layout = model.layout();
        float[] m = new float[layout.size()];
        float[] v = new float[layout.size()];
        Map<String, SafeTensors.Tensor> all = c.tensors();
        var firsts = new java.util.LinkedHashMap<String, SafeTensors.Tensor>();
        var seconds = new java.util.LinkedHashMap<String, SafeTensors.Tensor>();
        for (var e : all.entrySet()) {
            if (e.getKey().startsWith(M)) firsts.put(e.getKey(), e.getValue());
            else if (e.getKey().startsWith(V)) seconds.put(e.getKey(), e.getValue());
            else throw new IOException(file + ": has a tensor " + e.getKey() + " that is not an AdamW moment");
        }
        GptWeights.copyAll(file, new SafeTensors.Contents(c.metadata(), firsts), layout, M, m);
        GptWeights.copyAll(file, new SafeTensors.Contents(c.metadata(), seconds), layout, V, v);
        return new Loaded(m, v, step);
    }
}
