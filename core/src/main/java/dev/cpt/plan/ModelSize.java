package dev.cpt.plan;

import dev.cpt.spec.ModelSpec;

/**
 * Parameter counts and training FLOPs of the two architectures, shared by the engines, {@code cpt
 * plan} and the reports.
 *
 * <p>Per layer both have 12·d² + 13·d parameters: fused q,k,v (3d² + 3d), the attention output
 * (d² + d), the MLP's two linears (4d² + 4d and 4d² + d) and two LayerNorms (4d). {@code gpt2} adds
 * learned positions (ctx·d) and ties its LM head to the token embedding (V·d once); {@code neox}
 * has rotary positions (no parameters) and an untied LM head (V·d twice). Both end in a LayerNorm
 * (2d). {@code mpt} (MPT, LBS-7B) has no biases at all, LayerNorms included (12·d² + 2·d a layer,
 * d for the final norm), ALiBi positions and a tied head (V·d once). Pythia-410M's shape with its 50,304-token vocabulary gives 405,334,016, its published count.
 */
public final class ModelSize {
    private ModelSize() {}

    /** Parameters of one transformer block: 12·d² + 13·d; mpt's has no biases, 12·d² + 2·d (two norm weights). */
    public static long layerParameters(ModelSpec.Shape s) {
        long d = s.dModel();
        if (s.arch().equals("mpt")) return 12 * d * d + 2 * d;
        return 12 * d * d + 13 * d;
    }

    public static long parameters(ModelSpec.Shape s) {
        long d = s.dModel(), l = s.layers(), v = s.vocabSize();
        long perLayer = layerParameters(s);
        long embeddings = switch (s.arch()) {
            case "gpt2" -> v * d + (long) s.contextLength() * d;
            case "neox" -> 2 * v * d;
            case "mpt" -> v * d;  // ALiBi positions (no parameters), head tied to the embedding
            default -> throw new IllegalArgumentException("unknown architecture " + s.arch());
        };
        // The final LayerNorm: weight and bias, mpt's weight only.
        return embeddings + l * perLayer + (s.arch().equals("mpt") ? d : 2 * d);
    }

    /**
     * Training FLOPs per token at sequence length {@code seqLen}: 6N + 12·L·H·Q·T (PaLM, appendix B;
     * H·Q = d), N counting every parameter.
     */
    public static double flopsPerToken(ModelSpec.Shape s, int seqLen) {
        return 6.0 * parameters(s) + 12.0 * s.layers() * s.dModel() * (double) seqLen;
    }
}
