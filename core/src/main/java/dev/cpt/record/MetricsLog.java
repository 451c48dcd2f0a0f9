package dev.cpt.record;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/** {@code metrics.jsonl}: one {@link StepRecord} a line, appended as the run goes. */
public final class MetricsLog implements AutoCloseable {
    private final BufferedWriter out;

    private MetricsLog(BufferedWriter out) {
        this.out = out;
    }

    public static MetricsLog append(Path file) throws IOException {
        return new MetricsLog(Files.newBufferedWriter(file, StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND));
    }

    /** A log that keeps nothing: a rank of a multi-rank run other than rank 0, which writes the records. */
    public static MetricsLog discarding() {
        return new MetricsLog(new BufferedWriter(java.io.Writer.nullWriter()));
    }

    public void write(StepRecord r) throws IOException {
        out.write(Json.MAPPER.writeValueAsString(r));
        out.write('\n');
    }

    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    /** Reads every complete line; a torn last line (a crash mid-write) is ignored. */
    public static List<StepRecord> read(Path file) throws IOException {
        List<StepRecord> records = new ArrayList<>();
        if (!Files.exists(file)) return records;
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) continue;
            try {
                records.add(Json.MAPPER.readValue(line, StepRecord.class));
            } catch (IOException e) {
                if (i == lines.size() - 1) break;
                throw new IOException(file + ": line " + (i + 1) + " is not a metrics record: " + e.getMessage(), e);
            }
        }
        return records;
    }

    /** Rewrites {@code file} (atomically) keeping only the records of steps before {@code step}. */
    public static List<StepRecord> truncate(Path file, long step) throws IOException {
        List<StepRecord> kept = read(file).stream().filter(r -> r.step() < step).toList();
        AtomicFiles.write(file, o -> {
            for (StepRecord r : kept) {
                o.write(Json.MAPPER.writeValueAsBytes(r));
                o.write('\n');
            }
        });
        return kept;
    }
}
