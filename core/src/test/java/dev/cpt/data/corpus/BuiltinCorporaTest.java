package dev.cpt.data.corpus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cpt.data.shard.CptTokensFormat;
import dev.cpt.data.tokenize.ByteTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BuiltinCorporaTest {
    @TempDir
    Path tmp;

    /**
     * What the pairs are for: IID splits about as far apart as sampling noise; the weak pair
     * measurably apart; the strong pair clearly further, both as a divergence (excess) and as the
     * rise a D0 model sees (what forgetting is measured against).
     */
    static void assertShiftsOrdered(BuiltinCorpora.Card card) {
        var none = card.pairs().get("no-shift");
        var weak = card.pairs().get("weak");
        var strong = card.pairs().get("strong");
        assertThat(Math.abs(none.bigramExcess())).isLessThan(0.05);
        assertThat(Math.abs(none.bigramShift())).isLessThan(0.05);
        assertThat(weak.bigramExcess()).isGreaterThan(0.05);
        assertThat(strong.bigramExcess()).isGreaterThan(2 * weak.bigramExcess());
        assertThat(strong.bigramShift()).isGreaterThan(weak.bigramShift() + 0.1);
    }

    @Test
    void syntheticPairsMeasureNoWeakAndStrongShiftInThatOrder() throws IOException {
        Path out = tmp.resolve("builtin");
        var card = BuiltinCorpora.build(new BuiltinCorpora.Options(out, ByteTokenizer.INSTANCE, 1, 1_500_000, 0.05, true, false),
                line -> {});
        System.out.println(DataCardMarkdown.render(card));
        assertThat(card.source()).isEqualTo("synthetic");
        assertShiftsOrdered(card);
        for (String d : new String[] {"en", "en-b", "de", "en-1", "en-2", "en-3"}) {
            assertThat(CptTokensFormat.open(out.resolve(d).resolve("train.bin")).length()).isPositive();
            assertThat(CptTokensFormat.open(out.resolve(d).resolve("val.bin")).length()).isPositive();
        }
        var en = card.datasets().get("en");
        long splitDocs = card.datasets().get("en-1").documents() + card.datasets().get("en-2").documents()
                + card.datasets().get("en-3").documents();
        assertThat(splitDocs).isEqualTo(en.documents());
        assertThat(out.resolve("README.md")).content().contains("| strong | `en` → `de` |");
        assertThat(out.resolve("corpora.json")).exists();
    }

    @Test
    void theSameSeedBuildsTheSameBytes() throws IOException {
        var o1 = new BuiltinCorpora.Options(tmp.resolve("a"), ByteTokenizer.INSTANCE, 5, 100_000, 0.05, true, false);
        var o2 = new BuiltinCorpora.Options(tmp.resolve("b"), ByteTokenizer.INSTANCE, 5, 100_000, 0.05, true, false);
        BuiltinCorpora.build(o1, l -> {});
        BuiltinCorpora.build(o2, l -> {});
        assertThat(Files.mismatch(tmp.resolve("a/de/train.bin"), tmp.resolve("b/de/train.bin"))).isEqualTo(-1);
        assertThat(Files.mismatch(tmp.resolve("a/en-2/val.bin"), tmp.resolve("b/en-2/val.bin"))).isEqualTo(-1);
    }

    @Test
    void keepsCorporaBuiltWithTheSameOptionsAndRefusesOthers() throws IOException {
        var o = new BuiltinCorpora.Options(tmp.resolve("c"), ByteTokenizer.INSTANCE, 1, 50_000, 0.05, true, false);
        BuiltinCorpora.build(o, l -> {});
        long before = Files.getLastModifiedTime(tmp.resolve("c/en/train.bin")).toMillis();
        java.util.List<String> log = new java.util.ArrayList<>();
        BuiltinCorpora.build(o, log::add);
        assertThat(log).containsExactly(tmp.resolve("c") + " already holds these built-in corpora; kept as they are");
        assertThat(Files.getLastModifiedTime(tmp.resolve("c/en/train.bin")).toMillis()).isEqualTo(before);
        assertThatThrownBy(() -> BuiltinCorpora.build(
                new BuiltinCorpora.Options(tmp.resolve("c"), ByteTokenizer.INSTANCE, 2, 50_000, 0.05, true, false), l -> {}))
                .hasMessageContaining("already exists with corpora built with other options");
    }

    @Test
    void refusesAnExistingDirectoryAndLeavesNoTemporary() throws IOException {
        Files.createDirectories(tmp.resolve("taken"));
        assertThatThrownBy(() -> BuiltinCorpora.build(
                new BuiltinCorpora.Options(tmp.resolve("taken"), ByteTokenizer.INSTANCE, 1, 50_000, 0.05, true, false), l -> {}))
                .hasMessageContaining("already exists");
        try (var s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("taken");
        }
    }

    @Test
    void debianPairsMeasureTheirShiftsInOrderWhereThePackagesAreInstalled() throws IOException {
        assumeTrue(BuiltinCorpora.presentUnder(Path.of("/")), "Debian corpora not installed: " + BuiltinCorpora.PACKAGES);
        Path out = tmp.resolve("builtin");
        var card = BuiltinCorpora.build(new BuiltinCorpora.Options(out, ByteTokenizer.INSTANCE, 1, 3_000_000, 0.05, false, false),
                line -> {});
        System.out.println(DataCardMarkdown.render(card));
        assertThat(card.source()).isEqualTo("debian");
        assertShiftsOrdered(card);
    }

    @Test
    void roffBecomesPlainText() {
        String roff = """
            .\\" a comment
            .TH LS "1" "September 2022"
            .SH NAME
            ls \\- list directory contents
            .PP
            Sort entries if none of \\fB\\-cftuvSUX\\fR nor \\fB\\-\\-sort\\fR is specified.
            .B ls
            Stra\\(sse \\(em done
            """;
        assertThat(ManPages.toPlainText(roff)).isEqualTo("""
            NAME
            ls - list directory contents

            Sort entries if none of -cftuvSUX nor --sort is specified.
            ls
            Straße - done
            """);
    }
}
