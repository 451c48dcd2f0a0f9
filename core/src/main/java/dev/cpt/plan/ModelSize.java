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
 * (2d). Pythia-410M's shape with its 50,304-token vocabulary gives 405,334,016, its published count.
 */
public final class ModelSize {
    private ModelSize() {}

    /** Parameters of one transformer block: 12·d² + 13·d. */
    public static long layerParameters(ModelSpec.Shape s) {
        long d = s.dModel();
        return 12 * d * d + 13 * d;
    }

    public static long parameters(ModelSpec.Shape s) {
        long d = s.dModel(), l = s.layers(), v = s.vocabSize();
        long perLayer = layerParameters(s);
        long embeddings = switch (s.arch()) {
            case "gpt2" -> v * d + (long) s.contextLength() * d;
            case "neox" -> 2 * v * d;
            default -> throw new IllegalArgumentException("unknown architecture " + s.arch());
        };
        return embeddings + l * perLayer + 2 * d;
    }

    /**
     * Training FLOPs per token at sequence length {@code seqLen}: 6N + 12·L·H·Q·T (PaLM, appendix B;
     * H·Q = d), N counting every parameter.
     */
    public static double flopsPerToken(ModelSpec.Shape s, int seqLen) {
        return 6.0 * parameters(s) + 12.0 * s.layers() * s.dModel() * (double) seqLen;
    }
}
