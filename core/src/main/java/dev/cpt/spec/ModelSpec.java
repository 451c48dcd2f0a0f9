package dev.cpt.spec;

import java.util.Map;
import java.util.TreeMap;

/**
 * Which model to train: a named preset, any of whose fields may be overridden, or an explicit
 * shape. {@code vocabSize} defaults to the preset's (the byte vocabulary, 256, for the toys).
 */
public record ModelSpec(String preset, String arch, Integer layers, Integer dModel, Integer heads,
                        Integer contextLength, Integer vocabSize) {

    /** Architectures of DESIGN.md: {@code gpt2} (both engines) and {@code neox} (torch engine). */
    public static final java.util.Set<String> ARCHS = java.util.Set.of("gpt2", "neox");

    /** A fully resolved model shape. */
    public record Shape(String arch, int layers, int dModel, int heads, int contextLength, int vocabSize) {}

    /** The presets of DESIGN.md and PAPER.md. */
    public static final Map<String, Shape> PRESETS = presets();

    private static Map<String, Shape> presets() {
        Map<String, Shape> m = new TreeMap<>();
        m.put("toy-xs", new Shape("gpt2", 2, 64, 2, 64, 256));
        m.put("toy-s", new Shape("gpt2", 4, 128, 4, 128, 256));
        m.put("toy-m", new Shape("gpt2", 6, 256, 8, 256, 256));
        // Pythia-410M's shape, as PAPER.md §1 gives it; vocabulary 50,277 padded to 50,432.
        m.put("405m", new Shape("neox", 24, 1024, 16, 2048, 50432));
        // PAPER.md gives the 10B model's size only ("9.6B incl. embeddings"), not its shape: 36 layers
        // of d 4608 (36 heads of 128) with NeoX's untied embeddings over 50,432 tokens make
        // 9,639,889,920 parameters (dev.cpt.plan.ModelSize), the stated 9.6B.
        m.put("10b", new Shape("neox", 36, 4608, 36, 2048, 50432));
        return java.util.Collections.unmodifiableMap(m);
    }

    public void validate(String path, Problems p) {
        Shape base = null;
        if (preset != null) {
            base = PRESETS.get(preset);
            if (base == null) {
                p.add(Problems.child(path, "preset"), "unknown preset \"" + preset + "\"; known: " + String.join(", ", PRESETS.keySet()));
                return;
            }
        }
        if (arch != null && !ARCHS.contains(arch)) {
            p.add(Problems.child(path, "arch"), "unknown architecture \"" + arch + "\"; known: gpt2, neox");
        }
        if (base == null) {
            for (String e : java.util.List.of("layers", "dModel", "heads", "contextLength")) {
                if (explicit(e) == null) {
                    p.addUnlessCovered(Problems.child(path, e), "missing: give a preset or the full shape (layers, dModel, heads, contextLength)");
                }
            }
        }
        p.positive(Problems.child(path, "layers"), layers);
        p.positive(Problems.child(path, "dModel"), dModel);
        p.positive(Problems.child(path, "heads"), heads);
        p.positive(Problems.child(path, "contextLength"), contextLength);
        p.positive(Problems.child(path, "vocabSize"), vocabSize);
        Integer d = dModel != null ? dModel : base != null ? Integer.valueOf(base.dModel()) : null;
        Integer h = heads != null ? heads : base != null ? Integer.valueOf(base.heads()) : null;
        if (d != null && h != null && d > 0 && h > 0 && d % h != 0) {
            p.add(Problems.child(path, heads != null ? "heads" : "dModel"), "dModel " + d + " is not divisible by heads " + h);
        }
    }

    private Integer explicit(String field) {
        return switch (field) {
            case "layers" -> layers;
            case "dModel" -> dModel;
            case "heads" -> heads;
            case "contextLength" -> contextLength;
            default -> throw new IllegalArgumentException(field);
        };
    }

    /** The shape after overrides; call only on a validated spec. */
    public Shape shape() {
        Shape base = preset != null ? PRESETS.get(preset) : new Shape("gpt2", 0, 0, 0, 0, 256);
        return new Shape(arch != null ? arch : base.arch(),
                layers != null ? layers : base.layers(),
                dModel != null ? dModel : base.dModel(),
                heads != null ? heads : base.heads(),
                contextLength != null ? contextLength : base.contextLength(),
                vocabSize != null ? vocabSize : base.vocabSize());
    }
}
