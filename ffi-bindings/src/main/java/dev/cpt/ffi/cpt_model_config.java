package dev.cpt.ffi;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout.OfDouble;
import java.lang.foreign.ValueLayout.OfInt;
import java.lang.foreign.ValueLayout.OfLong;

/** {@code struct cpt_model_config} of cpt_torch.h. */
public final class cpt_model_config {
    private cpt_model_config() {}

    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            cpt_torch_h.C_INT.withName("arch"),
            cpt_torch_h.C_INT.withName("layers"),
            cpt_torch_h.C_INT.withName("d_model"),
            cpt_torch_h.C_INT.withName("heads"),
            cpt_torch_h.C_INT.withName("context_length"),
            cpt_torch_h.C_INT.withName("vocab_size"),
            cpt_torch_h.C_INT.withName("device"),
            cpt_torch_h.C_INT.withName("precision"),
            cpt_torch_h.C_INT.withName("threads"),
            cpt_torch_h.C_INT.withName("activation_checkpointing"),
            cpt_torch_h.C_INT.withName("fused_kernels"),
            cpt_torch_h.C_INT.withName("device_index"),
            cpt_torch_h.C_DOUBLE.withName("beta1"),
            cpt_torch_h.C_DOUBLE.withName("beta2"),
            cpt_torch_h.C_DOUBLE.withName("eps"),
            cpt_torch_h.C_LONG.withName("seed"),
            cpt_torch_h.C_DOUBLE.withName("rotary_pct"),
            cpt_torch_h.C_DOUBLE.withName("rotary_base"),
            cpt_torch_h.C_DOUBLE.withName("layer_norm_eps"),
            cpt_torch_h.C_INT.withName("use_parallel_residual"),
            cpt_torch_h.C_INT.withName("tie_word_embeddings"),
            cpt_torch_h.C_INT.withName("hidden_act"),
            MemoryLayout.paddingLayout(4),
            cpt_torch_h.C_DOUBLE.withName("alibi_bias_max")
    ).withName("cpt_model_config");

    public static GroupLayout layout() {
        return $LAYOUT;
    }

    public static MemorySegment allocate(SegmentAllocator allocator) {
        return allocator.allocate($LAYOUT);
    }

    private static OfInt intField(String name) {
        return (OfInt) $LAYOUT.select(groupElement(name));
    }

    private static long offset(String name) {
        return $LAYOUT.byteOffset(groupElement(name));
    }

    private static final OfInt arch$LAYOUT = intField("arch");
    private static final long arch$OFFSET = offset("arch");
    private static final OfInt layers$LAYOUT = intField("layers");
    private static final long layers$OFFSET = offset("layers");
    private static final OfInt d_model$LAYOUT = intField("d_model");
    private static final long d_model$OFFSET = offset("d_model");
    private static final OfInt heads$LAYOUT = intField("heads");
    private static final long heads$OFFSET = offset("heads");
    private static final OfInt context_length$LAYOUT = intField("context_length");
    private static final long context_length$OFFSET = offset("context_length");
    private static final OfInt vocab_size$LAYOUT = intField("vocab_size");
    private static final long vocab_size$OFFSET = offset("vocab_size");
    private static final OfInt device$LAYOUT = intField("device");
    private static final long device$OFFSET = offset("device");
    private static final OfInt precision$LAYOUT = intField("precision");
    private static final long precision$OFFSET = offset("precision");
    private static final OfInt threads$LAYOUT = intField("threads");
    private static final long threads$OFFSET = offset("threads");
    private static final OfInt activation_checkpointing$LAYOUT = intField("activation_checkpointing");
    private static final long activation_checkpointing$OFFSET = offset("activation_checkpointing");
    private static final OfInt fused_kernels$LAYOUT = intField("fused_kernels");
    private static final long fused_kernels$OFFSET = offset("fused_kernels");
    private static final OfInt device_index$LAYOUT = intField("device_index");
    private static final long device_index$OFFSET = offset("device_index");
    private static final OfDouble beta1$LAYOUT = (OfDouble) $LAYOUT.select(groupElement("beta1"));
    private static final long beta1$OFFSET = offset("beta1");
    private static final OfDouble beta2$LAYOUT = (OfDouble) $LAYOUT.select(groupElement("beta2"));
    private static final long beta2$OFFSET = offset("beta2");
    private static final OfDouble eps$LAYOUT = (OfDouble) $LAYOUT.select(groupElement("eps"));
    private static final long eps$OFFSET = offset("eps");
    private static final OfLong seed$LAYOUT = (OfLong) $LAYOUT.select(groupElement("seed"));
    private static final long seed$OFFSET = offset("seed");
    private static final OfDouble rotary_pct$LAYOUT = (OfDouble) $LAYOUT.select(groupElement("rotary_pct"));
    private static final long rotary_pct$OFFSET = offset("rotary_pct");
    private static final OfDouble rotary_base$LAYOUT = (OfDouble) $LAYOUT.select(groupElement("rotary_base"));
    private static final long rotary_base$OFFSET = offset("rotary_base");
    private static final OfDouble layer_norm_eps$LAYOUT = (OfDouble) $LAYOUT.select(groupElement("layer_norm_eps"));
    private static final long layer_norm_eps$OFFSET = offset("layer_norm_eps");
    private static final OfInt use_parallel_residual$LAYOUT = intField("use_parallel_residual");
    private static final long use_parallel_residual$OFFSET = offset("use_parallel_residual");
    private static final OfInt tie_word_embeddings$LAYOUT = intField("tie_word_embeddings");
    private static final long tie_word_embeddings$OFFSET = offset("tie_word_embeddings");
    private static final OfInt hidden_act$LAYOUT = intField("hidden_act");
    private static final long hidden_act$OFFSET = offset("hidden_act");
    private static final OfDouble alibi_bias_max$LAYOUT = (OfDouble) $LAYOUT.select(groupElement("alibi_bias_max"));
    private static final long alibi_bias_max$OFFSET = offset("alibi_bias_max");

    public static int arch(MemorySegment s) { return s.get(arch$LAYOUT, arch$OFFSET); }
    public static void arch(MemorySegment s, int v) { s.set(arch$LAYOUT, arch$OFFSET, v); }
    public static int layers(MemorySegment s) { return s.get(layers$LAYOUT, layers$OFFSET); }
    public static void layers(MemorySegment s, int v) { s.set(layers$LAYOUT, layers$OFFSET, v); }
    public static int d_model(MemorySegment s) { return s.get(d_model$LAYOUT, d_model$OFFSET); }
    public static void d_model(MemorySegment s, int v) { s.set(d_model$LAYOUT, d_model$OFFSET, v); }
    public static int heads(MemorySegment s) { return s.get(heads$LAYOUT, heads$OFFSET); }
    public static void heads(MemorySegment s, int v) { s.set(heads$LAYOUT, heads$OFFSET, v); }
    public static int context_length(MemorySegment s) { return s.get(context_length$LAYOUT, context_length$OFFSET); }
    public static void context_length(MemorySegment s, int v) { s.set(context_length$LAYOUT, context_length$OFFSET, v); }
    public static int vocab_size(MemorySegment s) { return s.get(vocab_size$LAYOUT, vocab_size$OFFSET); }
    public static void vocab_size(MemorySegment s, int v) { s.set(vocab_size$LAYOUT, vocab_size$OFFSET, v); }
    public static int device(MemorySegment s) { return s.get(device$LAYOUT, device$OFFSET); }
    public static void device(MemorySegment s, int v) { s.set(device$LAYOUT, device$OFFSET, v); }
    public static int precision(MemorySegment s) { return s.get(precision$LAYOUT, precision$OFFSET); }
    public static void precision(MemorySegment s, int v) { s.set(precision$LAYOUT, precision$OFFSET, v); }
    public static int threads(MemorySegment s) { return s.get(threads$LAYOUT, threads$OFFSET); }
    public static void threads(MemorySegment s, int v) { s.set(threads$LAYOUT, threads$OFFSET, v); }
    public static int activation_checkpointing(MemorySegment s) { return s.get(activation_checkpointing$LAYOUT, activation_checkpointing$OFFSET); }
    public static void activation_checkpointing(MemorySegment s, int v) { s.set(activation_checkpointing$LAYOUT, activation_checkpointing$OFFSET, v); }
    public static int fused_kernels(MemorySegment s) { return s.get(fused_kernels$LAYOUT, fused_kernels$OFFSET); }
    public static void fused_kernels(MemorySegment s, int v) { s.set(fused_kernels$LAYOUT, fused_kernels$OFFSET, v); }
    public static int device_index(MemorySegment s) { return s.get(device_index$LAYOUT, device_index$OFFSET); }
    public static void device_index(MemorySegment s, int v) { s.set(device_index$LAYOUT, device_index$OFFSET, v); }
    public static double beta1(MemorySegment s) { return s.get(beta1$LAYOUT, beta1$OFFSET); }
    public static void beta1(MemorySegment s, double v) { s.set(beta1$LAYOUT, beta1$OFFSET, v); }
    public static double beta2(MemorySegment s) { return s.get(beta2$LAYOUT, beta2$OFFSET); }
    public static void beta2(MemorySegment s, double v) { s.set(beta2$LAYOUT, beta2$OFFSET, v); }
    public static double eps(MemorySegment s) { return s.get(eps$LAYOUT, eps$OFFSET); }
    public static void eps(MemorySegment s, double v) { s.set(eps$LAYOUT, eps$OFFSET, v); }
    public static long seed(MemorySegment s) { return s.get(seed$LAYOUT, seed$OFFSET); }
    public static void seed(MemorySegment s, long v) { s.set(seed$LAYOUT, seed$OFFSET, v); }
    public static double rotary_pct(MemorySegment s) { return s.get(rotary_pct$LAYOUT, rotary_pct$OFFSET); }
    public static void rotary_pct(MemorySegment s, double v) { s.set(rotary_pct$LAYOUT, rotary_pct$OFFSET, v); }
    public static double rotary_base(MemorySegment s) { return s.get(rotary_base$LAYOUT, rotary_base$OFFSET); }
    public static void rotary_base(MemorySegment s, double v) { s.set(rotary_base$LAYOUT, rotary_base$OFFSET, v); }
    public static double layer_norm_eps(MemorySegment s) { return s.get(layer_norm_eps$LAYOUT, layer_norm_eps$OFFSET); }
    public static void layer_norm_eps(MemorySegment s, double v) { s.set(layer_norm_eps$LAYOUT, layer_norm_eps$OFFSET, v); }
    public static int use_parallel_residual(MemorySegment s) { return s.get(use_parallel_residual$LAYOUT, use_parallel_residual$OFFSET); }
    public static void use_parallel_residual(MemorySegment s, int v) { s.set(use_parallel_residual$LAYOUT, use_parallel_residual$OFFSET, v); }
    public static int tie_word_embeddings(MemorySegment s) { return s.get(tie_word_embeddings$LAYOUT, tie_word_embeddings$OFFSET); }
    public static void tie_word_embeddings(MemorySegment s, int v) { s.set(tie_word_embeddings$LAYOUT, tie_word_embeddings$OFFSET, v); }
    public static int hidden_act(MemorySegment s) { return s.get(hidden_act$LAYOUT, hidden_act$OFFSET); }
    public static void hidden_act(MemorySegment s, int v) { s.set(hidden_act$LAYOUT, hidden_act$OFFSET, v); }
    public static double alibi_bias_max(MemorySegment s) { return s.get(alibi_bias_max$LAYOUT, alibi_bias_max$OFFSET); }
    public static void alibi_bias_max(MemorySegment s, double v) { s.set(alibi_bias_max$LAYOUT, alibi_bias_max$OFFSET, v); }
}
