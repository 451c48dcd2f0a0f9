package dev.cpt.hf;

/**
 * What an architecture computes beyond its {@link dev.cpt.spec.ModelSpec.Shape}: the settings a
 * checkpoint's config.json gives (GPT-NeoX's {@code rotary_pct}, {@code rotary_emb_base},
 * {@code use_parallel_residual}, {@code layer_norm_eps}, {@code tie_word_embeddings},
 * {@code hidden_act}), which the torch engine takes as they are. cpt's own models (no init) use
 * {@link #defaults(String)}: what cpt's gpt2 and neox have always computed.
 *
 * @param rotaryPct the fraction of each head's dims the rotary embedding turns (neox; rotated dims
 *     are int(d_head · rotaryPct), as GPT-NeoX computes them)
 * @param rotaryBase the rotary embedding's base (neox)
 * @param parallelResidual x + attn(ln1(x)) + mlp(ln2(x)) (Pythia), else sequential blocks
 * @param layerNormEps every LayerNorm's epsilon
 * @param tiedEmbeddings the output head is the token embedding (gpt2 always; neox when the config says)
 * @param exactGelu the MLP's GELU is exact (erf), else its tanh approximation
 * @param alibiBiasMax mpt: ALiBi's slopes are 2^(−alibiBiasMax·i/n) over the heads (MPT's
 *     {@code attn_config.alibi_bias_max}, 8 by default); 0 for architectures without ALiBi
 */
public record ArchSettings(double rotaryPct, double rotaryBase, boolean parallelResidual, double layerNormEps,
                           boolean tiedEmbeddings, boolean exactGelu, double alibiBiasMax) {

    /** An architecture without ALiBi (gpt2, neox). */
    public ArchSettings(double rotaryPct, double rotaryBase, boolean parallelResidual, double layerNormEps, boolean tiedEmbeddings,
                        boolean exactGelu) {
        this(rotaryPct, rotaryBase, parallelResidual, layerNormEps, tiedEmbeddings, exactGelu, 0);
    }

    /** cpt's gpt2: tied head, sequential blocks, tanh GELU, eps 1e-5 (no rotary). */
    public static final ArchSettings GPT2 = new ArchSettings(0, 0, false, 1e-5, true, false);
    /** cpt's neox presets, Pythia's settings: rotary on a quarter of d_head with base 10000, parallel residual, untied head, exact GELU, eps 1e-5. */
    public static final ArchSettings NEOX = new ArchSettings(0.25, 10000, true, 1e-5, false, true);

    /** cpt's mpt (MPT-7B's, LBS-7B's): ALiBi with alibi_bias_max 8, sequential blocks, tied head, exact GELU, eps 1e-5. */
    public static final ArchSettings MPT = new ArchSettings(0, 0, false, 1e-5, true, true, 8);

    public static ArchSettings defaults(String arch) {
        return switch (arch) {
            case "gpt2" -> GPT2;
            case "neox" -> NEOX;
            case "mpt" -> MPT;
            default -> throw new IllegalArgumentException("no settings for architecture \"" + arch + "\"");
        };
    }
}
