package dev.cpt.data.prepare;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cpt.record.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrepareBenchmarkTest {
    @TempDir
    Path tmp;

    @Test
    void theSyntheticCorpusIsDeterministicAndAboutTheAskedSize() throws IOException {
        PrepareBenchmark.generate(tmp.resolve("a"), 300_000, false);
        PrepareBenchmark.generate(tmp.resolve("b"), 300_000, false);
        Path a = tmp.resolve("a/part-00000.jsonl");
        assertThat(Files.readAllBytes(a)).isEqualTo(Files.readAllBytes(tmp.resolve("b/part-00000.jsonl")));
        PrepareReport r = Prepare.run(PrepareOptions.builder().input(a).out(tmp.resolve("out")).valFraction(0).build(),
                ProgressListener.NONE);
        assertThat(r.train().bytes()).isBetween(300_000L, 320_000L);
        assertThat(r.badLinesSkipped()).isZero();
    }

    @Test
    void printsOneJsonLinePerRunAndTheMedian() throws IOException {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            PrepareBenchmark.main(new String[] {"--tokenizer", "bytes", "--jobs", "2", "--mb", "0.2", "--runs", "2", "--format", "text"});
        } finally {
            System.setOut(old);
        }
        List<String> lines = buf.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines).hasSize(3);
        for (String line : lines) {
            JsonNode n = Json.MAPPER.readTree(line);
            assertThat(n.get("tokenizer").asText()).isEqualTo("bytes");
            assertThat(n.get("jobs").asInt()).isEqualTo(2);
            assertThat(n.get("mb").asDouble()).isBetween(0.2, 0.21);
            assertThat(n.get("mbPerSecond").asDouble()).isPositive();
            assertThat(n.get("tokensPerSecond").asLong()).isPositive();
        }
        assertThat(Json.MAPPER.readTree(lines.get(2)).get("median").asBoolean()).isTrue();
    }
}
