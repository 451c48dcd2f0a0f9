package dev.cpt.hf;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Typed reads of a {@code config.json}'s fields, each error naming the file and the field (with
 * its place, e.g. {@code attn_config.}, for a nested one). One set of rules for every architecture.
 */
final class ConfigFields {
    private ConfigFields() {}

    /** A positive whole number the config must have. */
    static int whole(JsonNode config, Path file, String field) throws IOException {
        JsonNode n = config.get(field);
        if (n == null || n.isNull()) throw new IOException(file + ": lacks " + field);
        if (!n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() <= 0) {
            throw new IOException(file + ": " + field + " " + n + " is not a positive whole number");
        }
        return n.asInt();
    }

    static double number(JsonNode config, Path file, String field, double fallback) throws IOException {
        return number(config, file, "", field, fallback);
    }

    /** A number, or {@code fallback} when absent or null; {@code path} is where {@code node} sits ({@code ""} at the top). */
    static double number(JsonNode node, Path file, String path, String field, double fallback) throws IOException {
        JsonNode n = node.get(field);
        if (n == null || n.isNull()) return fallback;
        if (!n.isNumber()) throw new IOException(file + ": " + path + field + " " + n + " is not a number");
        return n.asDouble();
    }

    static boolean bool(JsonNode config, Path file, String field, boolean fallback) throws IOException {
        return bool(config, file, "", field, fallback);
    }

    static boolean bool(JsonNode node, Path file, String path, String field, boolean fallback) throws IOException {
        JsonNode n = node.get(field);
        if (n == null || n.isNull()) return fallback;
        if (!n.isBoolean()) throw new IOException(file + ": " + path + field + " " + n + " is not true or false");
        return n.asBoolean();
    }
}
