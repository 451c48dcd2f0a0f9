package dev.cpt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every spec under examples/ validates, and examples/README.md describes each one. */
class ExamplesTest {

    /** From surefire's cpt.examples (set in cli/pom.xml); else found above the working directory. */
    static Path examplesDir() {
        String configured = System.getProperty("cpt.examples");
        if (configured != null && !configured.isBlank() && !configured.contains("${")) return Path.of(configured);
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("examples")) && Files.exists(d.resolve("cpt"))) return d.resolve("examples");
        }
        throw new IllegalStateException("cannot find examples/: set -Dcpt.examples");
    }

    static List<Path> specs() throws IOException {
        try (Stream<Path> files = Files.walk(examplesDir())) {
            return files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
    }

    @Test
    void everyExampleValidates() throws IOException {
        List<Path> specs = specs();
        assertThat(specs).extracting(p -> p.getFileName().toString()).contains(
                "rewarm-redecay.json", "infinite-three-splits.json", "infinite-invsqrt.json", "wsd.json",
                "linear.json", "constant-min.json", "ptwd.json");
        for (Path spec : specs) {
            CliRun r = CliRun.run("validate", spec.toString());
            assertThat(r.code()).as(spec + "\n" + r.err()).isZero();
            assertThat(r.out()).startsWith(spec + ": ok — ");
        }
    }

    @Test
    void everyExampleIsDescribedInTheReadme() throws IOException {
        String readme = Files.readString(examplesDir().resolve("README.md"));
        for (Path spec : specs()) {
            assertThat(readme).as(spec.toString()).contains("`" + examplesDir().relativize(spec) + "`");
        }
    }

    @Test
    void infiniteThreeSplitsKeepsThePapersRatios() throws IOException {
        Path spec = examplesDir().resolve("infinite-three-splits.json");
        // Warmup 1% (20) and cooldown 60% (1,200) of the first split's 2,000 steps; const 0.55 max; min 0.1 max.
        CliRun r = CliRun.run("schedule", spec.toString(), "--at", "20,1220,5800,5999");
        assertThat(r.code()).as(r.err()).isZero();
        List<String> rows = r.out().lines().skip(1).toList();
        assertThat(rows).containsExactly(
                "20,split1,0.003,0.1",
                "1220,split1,0.00165,0.1",
                "5800,split3,0.00165,0.1",
                rows.get(3));
        double last = Double.parseDouble(rows.get(3).split(",")[2]);
        assertThat(last).isBetween(3e-4, 3.1e-4);
    }
}
