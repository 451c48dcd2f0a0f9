package dev.cpt.data;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cpt.TestSpecs;
import dev.cpt.plan.RunPlan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BatchSamplerTest {
    static final int L = 16;

    /** (dataset index, window) of each row of each step. */
    static List<long[]> draw(BatchSampler s, RunPlan plan, long from, long to) {
        List<long[]> rows = new ArrayList<>();
        Batch b = new Batch(plan.spec().batch().sequences(), L);
        for (long step = from; step < to; step++) {
            s.fill(step, b);
            for (int r = 0; r < b.sequences(); r++) {
                int first = b.input(r, 0);
                rows.add(new long[] {first / 10_000_000, (first % 10_000_000) / L});
                // The row is the window's L+1 consecutive tokens.
                for (int j = 0; j < L; j++) assertThat(b.target(r, j)).isEqualTo(b.input(r, j) + 1);
            }
        }
        return rows;
    }

    @Test
    void replayReplacesNewDataAndIsExactWithinOneSequenceAtEveryRow() {
        RunPlan plan = TestSpecs.plan(TestSpecs.twoStage(20, 50, "\"replay\": { \"fraction\": 0.25, \"from\": { \"en\": 1 } }", ""));
        DataSources data = TestSpecs.countingData(20_000, "en", "de");
        BatchSampler s = new BatchSampler(plan, data);
        draw(s, plan, 0, 20);
        List<long[]> rows = draw(s, plan, 20, 70);
        long replayed = 0;
        for (int n = 1; n <= rows.size(); n++) {
            if (rows.get(n - 1)[0] == 0) replayed++;
            assertThat(Math.abs(replayed - 0.25 * n)).as("after %d sequences", n).isLessThan(1.0);
        }
        assertThat(replayed).isEqualTo(100); // 50 steps × 8 rows × 25%
    }

    @Test
    void consumedReplayOnlyReplaysWindowsTheFirstStageTrainedOn() {
        RunPlan plan = TestSpecs.plan(TestSpecs.twoStage(10, 40, "\"replay\": { \"fraction\": 0.5, \"from\": { \"en\": 1 } }", ""));
        DataSources data = TestSpecs.countingData(20_000, "en", "de");
        BatchSampler s = new BatchSampler(plan, data);
        Set<Long> trained = new HashSet<>();
        for (long[] r : draw(s, plan, 0, 10)) trained.add(r[1]);
        assertThat(trained).hasSize(80); // 80 of the ~1250 windows, none twice
        Set<Long> replayed = new HashSet<>();
        for (long[] r : draw(s, plan, 10, 50)) if (r[0] == 0) replayed.add(r[1]);
        assertThat(trained).containsAll(replayed);
        assertThat(replayed).hasSize(80); // 160 replays over a pool of 80: two full passes
    }

    @Test
    void fullReplayDrawsFromTheWholeDataset() {
        RunPlan plan = TestSpecs.plan(TestSpecs.twoStage(10, 40,
                "\"replay\": { \"fraction\": 0.5, \"from\": { \"en\": 1 }, \"pool\": \"full\" }", ""));
        BatchSampler s = new BatchSampler(plan, TestSpecs.countingData(20_000, "en", "de"));
        Set<Long> trained = new HashSet<>();
        for (long[] r : draw(s, plan, 0, 10)) trained.add(r[1]);
        Set<Long> replayed = new HashSet<>();
        for (long[] r : draw(s, plan, 10, 50)) if (r[0] == 0) replayed.add(r[1]);
        assertThat(replayed).hasSize(160);
        assertThat(trained).doesNotContainAnyElementsOf(replayed.stream().filter(w -> !trained.contains(w)).toList());
        assertThat(replayed.stream().filter(w -> !trained.contains(w)).count()).isGreaterThan(100);
    }

    @Test
    void aPassVisitsEveryWindowOnceBeforeAnyRepeats() {
        RunPlan plan = TestSpecs.plan(TestSpecs.twoStage(25, 5, "", ""));
        // 1601 tokens: (1601 - 1) / 16 = 100 windows; 25 steps × 8 = 200 rows = two passes.
        BatchSampler s = new BatchSampler(plan, TestSpecs.countingData(1601, "en", "de"));
        List<long[]> rows = draw(s, plan, 0, 25);
        Set<Long> first = new HashSet<>(), second = new HashSet<>();
        List<Long> order1 = new ArrayList<>(), order2 = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            first.add(rows.get(i)[1]);
            order1.add(rows.get(i)[1]);
            second.add(rows.get(100 + i)[1]);
            order2.add(rows.get(100 + i)[1]);
        }
        assertThat(first).hasSize(100);
        assertThat(second).hasSize(100);
        assertThat(order2).isNotEqualTo(order1); // each pass is shuffled afresh
    }

    @Test
    void sameSeedSameBatchesAndAnotherSeedOthers() {
        String spec = TestSpecs.twoStage(5, 5, "", "");
        RunPlan plan = TestSpecs.plan(spec);
        DataSources data = TestSpecs.countingData(20_000, "en", "de");
        var a = draw(new BatchSampler(plan, data), plan, 0, 10);
        var b = draw(new BatchSampler(plan, data), plan, 0, 10);
        var c = draw(new BatchSampler(TestSpecs.plan(spec.replace("\"seed\": 11", "\"seed\": 12")), data), plan, 0, 10);
        assertThat(a).usingRecursiveComparison().isEqualTo(b);
        assertThat(a).usingRecursiveComparison().isNotEqualTo(c);
    }

    @Test
    void aRestoredSamplerContinuesExactlyEvenAcrossAStageBoundary() throws Exception {
        RunPlan plan = TestSpecs.plan(TestSpecs.twoStage(12, 30, "\"replay\": { \"fraction\": 0.3, \"from\": { \"en\": 1 } }", ""));
        DataSources data = TestSpecs.countingData(20_000, "en", "de");
        ObjectMapper json = new ObjectMapper();
        for (long stop : new long[] {5, 12, 13, 29}) {
            BatchSampler straight = new BatchSampler(plan, data);
            var expected = draw(straight, plan, 0, 42);

            BatchSampler first = new BatchSampler(plan, data);
            var got = new ArrayList<>(draw(first, plan, 0, stop));
            // Through JSON, as a checkpoint stores it.
            SamplerState state = json.readValue(json.writeValueAsString(first.state()), SamplerState.class);
            BatchSampler resumed = new BatchSampler(plan, data);
            resumed.restore(state);
            got.addAll(draw(resumed, plan, stop, 42));
            assertThat(got).as("stopped after step %d", stop).usingRecursiveComparison().isEqualTo(expected);
        }
    }

    @Test
    void mixWeightsAreExactToo() {
        RunPlan plan = TestSpecs.plan("""
            { "name": "mix", "model": { "preset": "toy-xs" }, "batch": { "sequences": 7, "seqLen": 16 },
              "datasets": { "a": { "train": "a" }, "b": { "train": "b" }, "c": { "train": "c" } },
              "lr": { "type": "constant", "value": 0.001 },
              "stages": [ { "name": "s", "steps": 30, "mix": { "a": 5, "b": 3, "c": 2 } } ] }
            """);
        BatchSampler s = new BatchSampler(plan, TestSpecs.countingData(20_000, "a", "b", "c"));
        Map<Long, Long> counts = new HashMap<>();
        List<long[]> rows = draw(s, plan, 0, 30);
        for (int n = 1; n <= rows.size(); n++) {
            counts.merge(rows.get(n - 1)[0], 1L, Long::sum);
            assertThat(Math.abs(counts.getOrDefault(0L, 0L) - 0.5 * n)).isLessThan(1.0);
            assertThat(Math.abs(counts.getOrDefault(1L, 0L) - 0.3 * n)).isLessThan(1.0);
            assertThat(Math.abs(counts.getOrDefault(2L, 0L) - 0.2 * n)).isLessThan(1.0);
        }
    }

    @Test
    void missingOrTooSmallDataIsNamed() {
        RunPlan plan = TestSpecs.plan(TestSpecs.twoStage(5, 5, "", ""));
        DataSources onlyEn = TestSpecs.countingData(20_000, "en");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new BatchSampler(plan, onlyEn))
                .hasMessageContaining("datasets.de.train: no tokens were opened for it")
                .hasMessageContaining("datasets.de.val");
        DataSources tiny = TestSpecs.countingData(10, "en", "de");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new BatchSampler(plan, tiny))
                .hasMessageContaining("en/train has 10 tokens, fewer than one sequence of 17");
    }

    /** en made of two domains (70% "web" = base 0, 30% "books" = base 2·10^7); de plain (base 10^7). */
    static DataSources domainData() {
        DataSources plain = TestSpecs.countingData(20_000, "en", "de", "books");
        var en = List.of(new DataSources.Domain("web", plain.train("en").get(0).source(), 7),
                new DataSources.Domain("books", plain.train("books").get(0).source(), 3));
        var enVal = List.of(new DataSources.Domain("web", plain.val("en").get(0).source(), 7),
                new DataSources.Domain("books", plain.val("books").get(0).source(), 3));
        return DataSources.ofDomains(Map.of("en", en, "de", plain.train("de")), Map.of("en", enVal, "de", plain.val("de")));
    }

    @Test
    void aDatasetOfDomainsDrawsEachDomainExactlyByWeightAndReplaysOnlyWhatEachConsumed() throws Exception {
        RunPlan plan = TestSpecs.plan(TestSpecs.twoStage(20, 30, "\"replay\": { \"fraction\": 0.5, \"from\": { \"en\": 1 } }", ""));
        DataSources data = domainData();
        BatchSampler s = new BatchSampler(plan, data);
        List<long[]> first = draw(s, plan, 0, 20);
        long books = 0;
        Set<Long> trainedWeb = new HashSet<>(), trainedBooks = new HashSet<>();
        for (int n = 1; n <= first.size(); n++) {
            long[] r = first.get(n - 1);
            if (r[0] == 2) {
                books++;
                trainedBooks.add(r[1]);
            } else {
                trainedWeb.add(r[1]);
            }
            assertThat(Math.abs(books - 0.3 * n)).isLessThan(1.0);
        }
        List<long[]> second = draw(s, plan, 20, 50);
        for (long[] r : second) {
            if (r[0] == 0) assertThat(trainedWeb).contains(r[1]);
            if (r[0] == 2) assertThat(trainedBooks).contains(r[1]);
        }
        assertThat(second.stream().filter(r -> r[0] == 2).count()).isEqualTo(36); // 30% of the 120 replayed rows

        // And the state, with its per-domain positions, resumes exactly.
        ObjectMapper json = new ObjectMapper();
        BatchSampler a = new BatchSampler(plan, data);
        draw(a, plan, 0, 27);
        BatchSampler b = new BatchSampler(plan, data);
        b.restore(json.readValue(json.writeValueAsString(a.state()), SamplerState.class));
        assertThat(draw(b, plan, 27, 50)).usingRecursiveComparison().isEqualTo(draw(a, plan, 27, 50));
    }

    @Test
    void validationGivesEachDomainItsShareOfRowsSpreadOverItsWindows() {
        DataSources data = domainData();
        ValidationSet v = new ValidationSet(data.val("en"), 8, L, 5);
        Batch b = new Batch(8, L);
        int books = 0;
        Set<Integer> firsts = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            v.fill(i, b);
            for (int r = 0; r < 8; r++) {
                if (b.input(r, 0) >= 20_000_000) books++;
                firsts.add(b.input(r, 0));
            }
        }
        assertThat(books).isEqualTo(12); // 30% of 40
        assertThat(firsts).hasSize(40);
    }
}
