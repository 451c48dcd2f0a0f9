package dev.cpt.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cpt.plan.RunPlan;
import dev.cpt.record.Json;
import dev.cpt.spec.DatasetSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The line that opens a report whose runs trained on the synthetic stand-ins of the built-in
 * corpora: results from made-up languages must not pass for results on real text. A dataset file
 * {@code DIR/NAME/train.bin} built by {@code cpt prepare --builtin DIR} has its data card in
 * {@code DIR/corpora.json}, whose {@code source} is {@code debian} or {@code synthetic}.
 */
public final class SyntheticDataNotice {
    private SyntheticDataNotice() {}

    /** The notice (markdown, one line) when any of the results' datasets is synthetic; empty otherwise. */
    public static Optional<String> line(Collection<VariantResult> results) {
        // Relative dataset paths are opened from the working directory (the CLI's Engines), so resolved from it here too.
        Path cwd = Path.of("").toAbsolutePath();
        // Every run of a sweep names the same few files: each card is read once.
        Set<Path> cards = new java.util.LinkedHashSet<>();
        for (VariantResult r : results) {
            RunPlan plan = r.plan();
            if (plan == null || plan.spec().datasets() == null) continue;
            for (DatasetSpec d : plan.spec().datasets().values()) {
                for (String file : new String[] {d.train(), d.val()}) {
                    if (file == null || file.contains(DatasetSpec.DOMAIN)) continue;
                    Path dataset = cwd.resolve(file).getParent();
                    if (dataset == null || dataset.getParent() == null) continue;
                    cards.add(dataset.getParent().resolve("corpora.json").normalize());
                }
            }
        }
        Set<String> syntheticCards = new TreeSet<>();
        for (Path card : cards) if (isSynthetic(card)) syntheticCards.add(displayed(cwd, card));
        if (syntheticCards.isEmpty()) return Optional.empty();
        return Optional.of("> **These results come from synthetic text, not the Debian corpora:** the data card "
                + String.join(", ", syntheticCards.stream().map(c -> "`" + c + "`").toList())
                + " says `\"source\": \"synthetic\"` (seeded made-up languages stood in for the Debian-packaged English"
                + " and German text). They say how the method behaves on that stand-in, not on real text.");
    }

    /** Markdown with the notice, when there is one, as its first line. */
    public static String prepend(Collection<VariantResult> results, String markdown) {
        return line(results).map(l -> l + "\n\n" + markdown).orElse(markdown);
    }

    private static boolean isSynthetic(Path card) {
        if (!Files.isRegularFile(card)) return false;
        try {
            JsonNode source = Json.MAPPER.readTree(card.toFile()).get("source");
            return source != null && "synthetic".equals(source.asText());
        } catch (IOException e) {
            return false; // not a built-in corpora card
        }
    }

    private static String displayed(Path cwd, Path card) {
        Path normal = card.normalize();
        return normal.startsWith(cwd) ? cwd.relativize(normal).toString() : normal.toString();
    }
}
