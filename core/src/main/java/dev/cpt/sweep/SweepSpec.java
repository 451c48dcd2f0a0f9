package dev.cpt.sweep;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cpt.plan.RunPlan;
import dev.cpt.spec.Problems;
import dev.cpt.spec.RunSpec;
import dev.cpt.spec.SpecException;
import dev.cpt.spec.SpecReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A sweep: one base run spec and the runs made from it by overriding values at JSON paths.
 *
 * <pre>{@code
 * { "name": "replay-sweep",
 *   "base": "rewarm-redecay.json",                    // a run spec file (relative to this file), or { a run spec }
 *   "variants": { "rewarm": {},
 *                 "constant-min": { "stages[1].lr": { "type": "constant", "value": 3e-4 } } },
 *   "grid": { "stages[1].replay.fraction": [0, 0.01, 0.05, 0.25] },
 *   "seeds": [1, 2],
 *   "description": "free text: what the sweep is for" }
 * }</pre>
 *
 * <p>Paths are written as problem paths are ({@code stages[1].lr.max}, {@code eval.every}); a value
 * replaces what is at its path, a whole object if it is one; a field that the base lacks may be
 * added where its object exists ({@code stages[1].replay}); {@code null} removes a field. A path
 * through a missing object or past the end of a list is a problem. Overrides apply in order: the
 * variant's, then the grid's, then the seed.
 *
 * <p>The runs are every variant × every grid point × every seed, in that order (the grid's first
 * path varying slowest). Their names, which also name their run directories:
 * <ul>
 *   <li>a variant's is its own ({@code constant-min}); with neither variants nor grid the one run is {@code base};</li>
 *   <li>a grid point's is {@code KEY=VALUE} for each grid path, joined by commas in the grid's order,
 *       e.g. {@code lr.max=0.0015,replay.fraction=0}: {@code KEY} is the path's last two fields
 *       (each field with its indexes as {@code .i}, as in {@code stages.1.lr}), lengthened until the
 *       grid's keys differ; {@code VALUE} is a number as written shortest ({@code 3e-4},
 *       {@code 0.0015}, {@code 100}), a string or boolean as it is, an object by its {@code type}
 *       ({@code constant}) or else by its position in the list ({@code v2}), with {@code -N} (its
 *       position) added where two values of a list would read the same; characters other than
 *       letters, digits and {@code . _ + -} become {@code _};</li>
 *   <li>a variant with a grid point: {@code VARIANT,GRIDPOINT}; with seeds, {@code @seed=N} is appended.</li>
 * </ul>
 * Each run's spec is named {@code <base name>/<run name>}.
 *
 * <p>Reading checks the sweep, builds every run's spec, and validates and plans each
 * ({@link RunPlan#of}); every problem of the sweep and of all its runs comes in one
 * {@link SpecException}. A run's problems are at {@code #variant NAME: path}; problems that every
 * run has alike are reported once, at {@code #every variant: path}.
 *
 * @param name      the sweep's name
 * @param source    the sweep file, for messages
 * @param baseFile  the base run spec's file, or null when the base was given inline
 * @param variants  the runs, in order
 */
public record SweepSpec(String name, String source, ObjectNode json, Path baseFile, List<Variant> variants) {

    /**
     * One run of the sweep.
     *
     * @param overrides what the run changes in the base, path to value, in the order applied
     */
    public record Variant(String name, Map<String, JsonNode> overrides, RunPlan plan) {
        public Variant {
            overrides = Collections.unmodifiableMap(new LinkedHashMap<>(overrides));
        }

        public RunSpec spec() {
            return plan.spec();
        }
    }

    static final List<String> FIELDS = List.of("name", "description", "base", "variants", "grid", "seeds");

    /** Declared variant names: safe as a directory name everywhere, and not an option or a hidden file. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+=,-]{0,99}");

    /** The sweep as run: its own fields, with the base inlined (a copy). */
    @Override
    public ObjectNode json() {
        return json.deepCopy();
    }

    public Variant variant(String name) {
        for (Variant v : variants) if (v.name().equals(name)) return v;
        throw new IllegalArgumentException("no variant " + name);
    }

    public static SweepSpec read(Path file) {
        return read(SpecReader.readText(file), file.toString(), file.toAbsolutePath().getParent());
    }

    /**
     * Reads a sweep, builds, validates and plans every run; {@code source} names it in messages, and
     * a base given as a file name is found relative to {@code baseDir}.
     */
    public static SweepSpec read(String json, String source, Path baseDir) {
        Problems p = new Problems();
        JsonNode root = parseTree(json, "", p);
        if (root == null) throw new SpecException(source, p.all());
        if (!(root instanceof ObjectNode sweep)) {
            p.add("", "expected an object with " + String.join(", ", FIELDS) + ", got " + SpecPath.describe(root));
            throw new SpecException(source, p.all());
        }
        sweep.fieldNames().forEachRemaining(f -> {
            if (!FIELDS.contains(f)) p.add(f, "unknown field; allowed: " + String.join(", ", FIELDS));
        });

        String name = text(sweep, "name", p);
        JsonNode description = sweep.get("description");
        if (description != null && !description.isTextual()) {
            p.add("description", "expected text (what the sweep is for), got " + SpecPath.describe(description));
        }
        Path baseFile = null;
        ObjectNode base = null;
        JsonNode b = sweep.get("base");
        if (b == null || b.isNull()) {
            p.add("base", "missing: give a run spec file (relative to the sweep's) or a run spec object");
        } else if (b.isTextual()) {
            baseFile = baseDir.resolve(b.asText());
            base = readBase(baseFile, b.asText(), p);
        } else if (b instanceof ObjectNode inline) {
            base = inline.deepCopy();
        } else {
            p.add("base", "expected a run spec file name or a run spec object, got " + SpecPath.describe(b));
        }

        List<Long> seeds = seeds(sweep.get("seeds"), p);
        Map<String, List<Setting>> variants = variants(sweep.get("variants"), seeds != null, p);
        List<GridPoint> grid = grid(sweep.get("grid"), seeds != null, p);
        if (base == null) throw new SpecException(source, p.all());

        String baseName = base.get("name") instanceof JsonNode n && n.isTextual() && !n.asText().isBlank() ? n.asText()
                : name != null ? name : "sweep";

        // Every run: variant × grid point × seed.
        List<String> variantNames = variants == null ? List.of("") : new ArrayList<>(variants.keySet());
        List<GridPoint> points = grid == null ? List.of(new GridPoint("", List.of())) : grid;
        List<Long> seedList = seeds == null ? Collections.singletonList(null) : seeds;
        List<Variant> runs = new ArrayList<>();
        Map<String, List<Problems.Problem>> runProblems = new LinkedHashMap<>();
        Set<Problems.Problem> overrideProblems = new LinkedHashSet<>();
        Set<String> names = new HashSet<>();
        for (String v : variantNames) {
            for (GridPoint g : points) {
                for (Long seed : seedList) {
                    String runName = String.join(",", v.isEmpty() && g.name().isEmpty() ? List.of("base")
                            : v.isEmpty() ? List.of(g.name()) : g.name().isEmpty() ? List.of(v) : List.of(v, g.name()));
                    if (seed != null) runName += "@seed=" + seed;
                    if (!names.add(runName)) {
                        p.add(v.isEmpty() ? "grid" : "variants." + v, "two runs would both be named \"" + runName
                                + "\"; rename a variant");
                        continue;
                    }
                    List<Setting> overrides = new ArrayList<>(variants == null ? List.of() : variants.get(v));
                    overrides.addAll(g.overrides());
                    ObjectNode spec = base.deepCopy();
                    Map<String, JsonNode> applied = new LinkedHashMap<>();
                    boolean ok = true;
                    for (Setting o : overrides) {
                        String why = o.path().apply(spec, o.value());
                        if (why != null) {
                            overrideProblems.add(new Problems.Problem(o.at(), why + (o.fromGrid() && !v.isEmpty() ? " (variant " + v + ")" : "")));
                            ok = false;
                        } else {
                            applied.remove(o.path().text());
                            applied.put(o.path().text(), o.value());
                        }
                    }
                    if (!ok) continue;
                    spec.put("name", baseName + "/" + runName);
                    if (seed != null) {
                        spec.put("seed", seed);
                        applied.put("seed", spec.get("seed"));
                    }
                    String runSource = source + "#variant " + runName;
                    try {
                        RunSpec read = SpecReader.read(SpecReader.mapper().writeValueAsString(spec), runSource);
                        runs.add(new Variant(runName, applied, RunPlan.of(read, runSource)));
                    } catch (SpecException e) {
                        runProblems.put(runName, e.problems());
                    } catch (JsonProcessingException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
        }
        overrideProblems.forEach(x -> p.add(x.path(), x.message()));
        addRunProblems(runProblems, variantNames.size() * points.size() * seedList.size(), p);
        if (!p.isEmpty()) throw new SpecException(source, p.all());

        ObjectNode asRun = sweep.deepCopy();
        asRun.set("base", base);
        return new SweepSpec(name, source, asRun, baseFile, List.copyOf(runs));
    }

    /** One override as declared: where ({@code variants.x["stages[1].lr.max"]}), the path, the value. */
    private record Setting(String at, SpecPath path, JsonNode value, boolean fromGrid) {}

    private record GridPoint(String name, List<Setting> overrides) {}

    /** A run's problems at {@code #variant NAME: path}; those every run shares, once at {@code #every variant}. */
    private static void addRunProblems(Map<String, List<Problems.Problem>> byRun, int runs, Problems p) {
        Set<Problems.Problem> common = new LinkedHashSet<>();
        if (runs > 1 && byRun.size() == runs) {
            common.addAll(byRun.values().iterator().next());
            byRun.values().forEach(common::retainAll);
        }
        for (Problems.Problem x : common) p.add(prefix("#every variant", x.path()), x.message());
        byRun.forEach((run, list) -> {
            for (Problems.Problem x : list) {
                if (!common.contains(x)) p.add(prefix("#variant " + run, x.path()), x.message());
            }
        });
    }

    private static String prefix(String who, String path) {
        return path.isEmpty() ? who : who + ": " + path;
    }

    private static String text(ObjectNode o, String field, Problems p) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            p.add(field, "missing");
            return null;
        }
        if (!n.isTextual()) {
            p.add(field, "expected a string, got " + SpecPath.describe(n));
            return null;
        }
        if (n.asText().isBlank()) {
            p.add(field, "is empty");
            return null;
        }
        return n.asText();
    }

    private static ObjectNode readBase(Path file, String written, Problems p) {
        String json;
        try {
            json = Files.readString(file);
        } catch (NoSuchFileException e) {
            p.add("base", "no such file: " + written + (file.isAbsolute() && !Path.of(written).isAbsolute() ? " (" + file + ")" : ""));
            return null;
        } catch (IOException e) {
            p.add("base", "cannot read " + written + ": " + e.getMessage());
            return null;
        }
        Problems inner = new Problems();
        JsonNode n = parseTree(json, "", inner);
        inner.all().forEach(x -> p.add("base", written + ": " + x));
        if (n == null) return null;
        if (!(n instanceof ObjectNode o)) {
            p.add("base", written + ": expected a run spec object, got " + SpecPath.describe(n));
            return null;
        }
        return o;
    }

    private static JsonNode parseTree(String json, String path, Problems p) {
        try {
            JsonNode n = SpecReader.mapper().readTree(json);
            if (n == null || n.isMissingNode() || n.isNull()) {
                p.add(path, "is empty");
                return null;
            }
            return n;
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            p.add(at == null ? path : "line " + at.getLineNr() + ", column " + at.getColumnNr(),
                    "not valid JSON: " + e.getOriginalMessage());
            return null;
        }
    }

    private static List<Long> seeds(JsonNode n, Problems p) {
        if (n == null || n.isNull()) return null;
        if (!n.isArray()) {
            p.add("seeds", "expected a list of whole numbers, got " + SpecPath.describe(n));
            return null;
        }
        if (n.isEmpty()) {
            p.add("seeds", "is empty; leave it out to run each variant with the base's seed");
            return null;
        }
        List<Long> seeds = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            JsonNode s = n.get(i);
            String at = Problems.index("seeds", i);
            boolean whole = s.isIntegralNumber() ? s.canConvertToLong()
                    : s.isFloatingPointNumber() && s.asDouble() == Math.rint(s.asDouble()) && Math.abs(s.asDouble()) < 9e18;
            if (!whole) {
                p.add(at, "expected a whole number, got " + (s.isNumber() ? s.asText() : SpecPath.describe(s)));
            } else if (seeds.contains(s.asLong())) {
                p.add(at, s.asLong() + " is listed twice");
            } else {
                seeds.add(s.asLong());
            }
        }
        return seeds;
    }

    private static Map<String, List<Setting>> variants(JsonNode n, boolean seeds, Problems p) {
        if (n == null || n.isNull()) return null;
        if (!n.isObject()) {
            p.add("variants", "expected an object of name: { path: value, ... }, got " + SpecPath.describe(n));
            return null;
        }
        if (n.isEmpty()) {
            p.add("variants", "names no variant; leave it out to sweep the grid alone");
            return null;
        }
        Map<String, List<Setting>> out = new LinkedHashMap<>();
        for (var e : n.properties()) {
            String name = e.getKey();
            String at = "variants." + name;
            if (!NAME.matcher(name).matches()) {
                p.add(at, "\"" + name + "\" cannot name a run directory: start with a letter or digit, use only letters,"
                        + " digits and . _ + = , - (at most 100)");
            }
            if (!(e.getValue() instanceof ObjectNode overrides)) {
                p.add(at, "expected an object of path: value (e.g. {\"stages[1].lr.max\": 3e-4}), got "
                        + SpecPath.describe(e.getValue()));
                out.put(name, List.of());
                continue;
            }
            List<Setting> list = new ArrayList<>();
            for (var o : overrides.properties()) {
                String oAt = at + "[\"" + o.getKey() + "\"]";
                SpecPath path = path(o.getKey(), oAt, seeds, p);
                if (path != null) list.add(new Setting(oAt, path, o.getValue(), false));
            }
            out.put(name, list);
        }
        return out;
    }

    private static SpecPath path(String text, String at, boolean seeds, Problems p) {
        SpecPath path;
        try {
            path = SpecPath.parse(text);
        } catch (IllegalArgumentException e) {
            p.add(at, e.getMessage());
            return null;
        }
        SpecPath.Step first = path.steps().getFirst();
        if (first.equals(new SpecPath.Field("name"))) {
            p.add(at, "a run's name is <base name>/<variant>; it cannot be overridden");
            return null;
        }
        if (seeds && first.equals(new SpecPath.Field("seed"))) {
            p.add(at, "seeds sets each run's seed; leave seed out of the overrides or leave out seeds");
            return null;
        }
        return path;
    }

    /** The grid's points, the first path varying slowest; null when there is no grid or it is unusable. */
    private static List<GridPoint> grid(JsonNode n, boolean seeds, Problems p) {
        if (n == null || n.isNull()) return null;
        if (!n.isObject()) {
            p.add("grid", "expected an object of path: [values], got " + SpecPath.describe(n));
            return null;
        }
        if (n.isEmpty()) {
            p.add("grid", "has no path; leave it out to run the variants alone");
            return null;
        }
        List<SpecPath> paths = new ArrayList<>();
        List<String> ats = new ArrayList<>();
        List<List<JsonNode>> values = new ArrayList<>();
        Map<List<SpecPath.Step>, String> seen = new HashMap<>();
        boolean ok = true;
        for (var e : n.properties()) {
            String at = "grid[\"" + e.getKey() + "\"]";
            SpecPath path = path(e.getKey(), at, seeds, p);
            if (path != null && seen.putIfAbsent(path.steps(), e.getKey()) != null) {
                p.add(at, "the same path as \"" + seen.get(path.steps()) + "\"");
                path = null;
            }
            JsonNode list = e.getValue();
            if (!list.isArray() || list.isEmpty()) {
                p.add(at, list.isArray() ? "is empty; give at least one value"
                        : "expected a list of values, got " + SpecPath.describe(list) + " (for one value, write [value])");
                ok = false;
                continue;
            }
            List<JsonNode> vs = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                int earlier = vs.indexOf(list.get(i));
                if (earlier >= 0) {
                    p.add(Problems.index(at, i), "repeats value " + (earlier + 1) + " of the list");
                    ok = false;
                }
                vs.add(list.get(i));
            }
            if (path == null) {
                ok = false;
                continue;
            }
            paths.add(path);
            ats.add(at);
            values.add(vs);
        }
        if (!ok) return null;

        List<String> keys = shortKeys(paths);
        List<List<String>> labels = new ArrayList<>();
        for (List<JsonNode> vs : values) labels.add(labels(vs));
        List<GridPoint> points = new ArrayList<>();
        points.add(new GridPoint("", List.of()));
        for (int k = 0; k < paths.size(); k++) {
            List<GridPoint> next = new ArrayList<>();
            for (GridPoint g : points) {
                for (int i = 0; i < values.get(k).size(); i++) {
                    List<Setting> o = new ArrayList<>(g.overrides());
                    o.add(new Setting(ats.get(k), paths.get(k), values.get(k).get(i), true));
                    String part = keys.get(k) + "=" + labels.get(k).get(i);
                    next.add(new GridPoint(g.name().isEmpty() ? part : g.name() + "," + part, o));
                }
            }
            points = next;
        }
        return points;
    }

    /** Each path's last two groups, lengthened where two keys would read the same. */
    static List<String> shortKeys(List<SpecPath> paths) {
        List<List<String>> groups = paths.stream().map(SpecPath::groups).toList();
        int[] take = new int[paths.size()];
        for (int i = 0; i < take.length; i++) take[i] = Math.min(2, groups.get(i).size());
        while (true) {
            List<String> keys = new ArrayList<>();
            for (int i = 0; i < take.length; i++) {
                List<String> g = groups.get(i);
                keys.add(String.join(".", g.subList(g.size() - take[i], g.size())));
            }
            boolean grew = false;
            for (int i = 0; i < take.length; i++) {
                if (Collections.frequency(keys, keys.get(i)) > 1 && take[i] < groups.get(i).size()) {
                    take[i]++;
                    grew = true;
                }
            }
            if (!grew) return keys.stream().map(SweepSpec::safe).toList();
        }
    }

    /** Short, file-safe labels of a grid path's values, distinct within the list. */
    static List<String> labels(List<JsonNode> values) {
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < values.size(); i++) labels.add(safe(label(values.get(i), i)));
        List<String> out = new ArrayList<>();
        for (int i = 0; i < labels.size(); i++) {
            String l = labels.get(i);
            out.add(Collections.frequency(labels, l) > 1 ? l + "-" + (i + 1) : l);
        }
        return out;
    }

    private static String label(JsonNode v, int i) {
        if (v.isNumber()) return number(v);
        if (v.isTextual()) return v.asText().isEmpty() ? "empty" : v.asText();
        if (v.isBoolean() || v.isNull()) return v.asText();
        if (v.isObject() && v.get("type") instanceof JsonNode t && t.isTextual() && !t.asText().isEmpty()) return t.asText();
        return "v" + (i + 1);
    }

    /** A number as short as it reads: 100, 0.0015, 3e-4, 1.5e-4. */
    static String number(JsonNode v) {
        if (v.isIntegralNumber()) return v.asText();
        double d = v.asDouble();
        if (d == Math.rint(d) && Math.abs(d) < 1e15) return Long.toString((long) d);
        String s = Double.toString(d).toLowerCase(Locale.ROOT);
        return s.replace(".0e", "e");
    }

    private static String safe(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            b.append((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || ".-_+".indexOf(c) >= 0 ? c : '_');
        }
        return b.toString();
    }
}
