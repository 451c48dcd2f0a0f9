package dev.cpt.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A task's items from a JSON Lines file, one object a line (blank lines are skipped). */
public final class TaskFile {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private TaskFile() {}

    /** Thrown for a file that cannot be read or a line that is not an item of the task: "FILE:LINE: what is wrong". */
    public static final class TaskFileException extends IllegalArgumentException {
        TaskFileException(String message) {
            super(message);
        }
    }

    /**
     * The first {@code limit} items of {@code file} (all with a null limit), in file order; the
     * harness's {@code --limit} takes the first N documents too.
     */
    public static List<TaskDoc> read(EvalTask task, Path file, Integer limit) throws IOException {
        List<TaskDoc> docs = new ArrayList<>();
        BufferedReader in;
        try {
            in = Files.newBufferedReader(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new TaskFileException(file + ": no such file (the " + task.id() + " items, as JSON Lines)");
        }
        try (in) {
            String text;
            int line = 0;
            while ((text = in.readLine()) != null && (limit == null || docs.size() < limit)) {
                line++;
                if (text.isBlank()) continue;
                JsonNode node;
                try {
                    node = MAPPER.readTree(text);
                } catch (JsonProcessingException e) {
                    throw new TaskFileException(file + ":" + line + ": not valid JSON (" + e.getOriginalMessage() + ")");
                }
                try {
                    docs.add(task.parse(node, docs.size(), line));
                } catch (EvalTask.BadItemException e) {
                    throw new TaskFileException(file + ":" + line + ": not a " + task.id() + " item: " + e.getMessage());
                }
            }
        } catch (java.nio.charset.MalformedInputException e) {
            throw new TaskFileException(file + ": not UTF-8 text");
        }
        if (docs.isEmpty()) throw new TaskFileException(file + ": no items (expected one JSON object a line)");
        return docs;
    }
}
