package dev.cpt.spec;

import java.util.Map;
import java.util.TreeMap;

/**
 * Which model to train: a named preset, any of whose fields may be overridden, or an explicit
 * shape. {@code vocabSize} defaults to the preset's (the byte vocabulary, 256, for the toys).
 * With {@code init} ({@code hf:DIR} or {@code run:DIR}, see {@link dev.cpt.hf.ModelInit}) the
 * model starts from those weights and its shape is theirs: a shape field given as well must agree.
 */
public record ModelSpec(String preset, String arch, Integer layers, Integer dModel, Integer heads,
                        Integer contextLength, Integer vocabSize, String init) {

    /** Architectures of DESIGN.md: {@code gpt2} (both engines), {@code neox} and {@code mpt} (torch engine). */
    public static final java.util.Set<String> ARCHS = java.util.Set.of("gpt2", "neox", "mpt");

    /** A fully resolved model shape. */
    public record Shape(String arch, int layers, int dModel, int heads, int contextLength, int vocabSize) {
        /** The value of one of {@link #FIELDS}. */
        Object field(String name) {
            return switch (name) {
                case "arch" -> arch;
                case "layers" -> layers;
                case "dModel" -> dModel;
                case "heads" -> heads;
                case "contextLength" -> contextLength;
                case "vocabSize" -> vocabSize;
                default -> throw new IllegalArgumentException(name);
            };
        }
    }

    /** The spec's shape fields, as named in JSON. */
    static final java.util.List<String> FIELDS = java.util.List.of("arch", "layers", "dModel", "heads", "contextLength", "vocabSize");

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
        // SlimPajama-DC's LBS-7B (MPT with ALiBi): 32 layers of d 4096 (32 heads of 128), MPT-7B's
        // 50,432-token vocabulary; no biases, no positional embedding, tied head: 6,649,286,656 parameters.
        m.put("lbs-7b", new Shape("mpt", 32, 4096, 32, 2048, 50432));
        // MPT at toy size, for tests: 6 heads, not a power of two, so ALiBi's next-power-of-two rule runs.
        m.put("toy-mpt", new Shape("mpt", 2, 96, 6, 64, 256));
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
        if (init != null) {
            validateInit(path, base, p);
            return;
        }
        if (arch != null && !ARCHS.contains(arch)) {
            p.add(Problems.child(path, "arch"), "unknown architecture \"" + arch + "\"; known: gpt2, neox, mpt");
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

    /**
     * The init must be readable, and every shape field the spec gives (itself or through its preset
     * {@code base}) must agree with the init's.
     */
    private void validateInit(String path, Shape base, Problems p) {
        if (!p.readsFiles()) return;
        Shape from;
        try {
            from = dev.cpt.hf.ModelInit.parse(init).shape();
        } catch (IllegalArgumentException | java.io.IOException e) {
            p.add(Problems.child(path, "init"), e.getMessage());
            return;
        }
        for (String field : FIELDS) {
            Object own = explicit(field);
            Object given = own != null ? own : base != null ? base.field(field) : null;
            Object wanted = from.field(field);
            if (given == null || given.equals(wanted)) continue;
            String what = own != null ? String.valueOf(given) : given + " (preset " + preset + ")";
            p.add(Problems.child(path, own != null ? field : "preset"), field + " " + what + " disagrees with the init: " + init
                    + " has " + field + " " + wanted + "; leave the shape out (it comes from the init) or make them agree");
        }
    }

    /**
     * This spec with its shape written out from its init's (every field explicit, so the run's
     * spec.json records the shape it trained); the spec itself when it has no init. Call only on a
     * validated spec.
     */
    public ModelSpec withInitShape() {
        if (init == null) return this;
        Shape s;
        try {
            s = dev.cpt.hf.ModelInit.parse(init).shape();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return new ModelSpec(preset, s.arch(), s.layers(), s.dModel(), s.heads(), s.contextLength(), s.vocabSize(), init);
    }

    /** The spec's own value of one of {@link #FIELDS}, or null. */
    private Object explicit(String field) {
        return switch (field) {
            case "arch" -> arch;
            case "vocabSize" -> vocabSize;
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
        if (init != null && (layers == null || dModel == null || heads == null || contextLength == null || vocabSize == null)) {
            // Specs that SpecReader read have their init's shape written out; this serves one built otherwise.
            return withInitShape().shape();
        }
        return new Shape(arch != null ? arch : base.arch(),
                layers != null ? layers : base.layers(),
                dModel != null ? dModel : base.dModel(),
                heads != null ? heads : base.heads(),
                contextLength != null ? contextLength : base.contextLength(),
                vocabSize != null ? vocabSize : base.vocabSize());
    }
}
