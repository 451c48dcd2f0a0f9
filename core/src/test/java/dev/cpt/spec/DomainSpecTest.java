package dev.cpt.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class DomainSpecTest {
    static String spec(String dataset) {
        return """
            { "name": "d", "model": { "preset": "toy-xs" }, "batch": { "sequences": 2, "seqLen": 8 },
              "datasets": { "sp": %s },
              "stages": [ { "name": "s", "steps": 10, "mix": { "sp": 1 }, "lr": { "type": "constant", "value": 0.001 } } ] }
            """.formatted(dataset);
    }

    @Test
    void presetsAreThePapersProportions() {
        var sp = DomainPresets.PRESETS.get("slimpajama");
        assertThat(sp.get("RedPajamaCommonCrawl")).isEqualTo(52.2);
        assertThat(sp.get("RedPajamaStackExchange")).isEqualTo(3.3);
        assertThat(sp.values().stream().mapToDouble(Double::doubleValue).sum()).isCloseTo(100, within(1e-9));
        assertThat(DomainPresets.PRESETS.get("lbs-7b").values().stream().mapToDouble(Double::doubleValue).sum())
                .isCloseTo(100, within(1e-9));
        assertThat(DomainPresets.PRESETS).containsKeys("redpajama", "llama1", "refinedweb", "gpt3", "massivetext");
    }

    @Test
    void aDomainDatasetReadsAndResolvesPaths() {
        RunSpec s = SpecReader.read(spec("""
            { "train": "data/sp/{domain}/train.bin", "val": "data/sp/{domain}/val.bin", "domainPreset": "slimpajama" }
            """), "x");
        DatasetSpec d = s.datasets().get("sp");
        assertThat(d.domainWeights()).containsEntry("RedPajamaC4", 26.7);
        assertThat(d.pathOf("train", "RedPajamaC4")).isEqualTo("data/sp/RedPajamaC4/train.bin");
    }

    @Test
    void domainMistakesAreNamed() {
        assertThatThrownBy(() -> SpecReader.read(spec("""
            { "train": "data/sp/train.bin", "domainPreset": "slimpajamma", "domains": { "a": -1 } }
            """), "x")).isInstanceOfSatisfying(SpecException.class, e -> assertThat(e.problems()).extracting(Object::toString)
                .contains("datasets.sp.domains: give domains or domainPreset, not both",
                        "datasets.sp.domains.a: weight -1 must be a non-negative number",
                        "datasets.sp.train: must contain {domain} where each domain's name goes, as the dataset has domains")
                .anyMatch(t -> t.startsWith("datasets.sp.domainPreset: unknown preset \"slimpajamma\"; known: gpt3, lbs-7b")));
        assertThatThrownBy(() -> SpecReader.read(spec("{ \"train\": \"data/{domain}.bin\" }"), "x"))
                .hasMessageContaining("datasets.sp.train: contains {domain} but the dataset names no domains or domainPreset");
    }
}
