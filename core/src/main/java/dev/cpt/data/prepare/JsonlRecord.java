package dev.cpt.data.prepare;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/** Pulls the text and, if asked, the domain out of one JSON Lines record, skipping everything else unparsed into objects. */
final class JsonlRecord {
    private static final JsonFactory FACTORY = JsonFactory.builder().build();

    /** A line that is not a record with text; the message says why. */
    static final class BadLine extends Exception {
        BadLine(String message) {
            super(message, null, false, false);
        }
    }

    record Fields(String text, String domain) {}

    private final String[] textPath;
    private final String[] domainPath;

    /** @param domainField null to read no domain */
    JsonlRecord(String textField, String domainField) {
        this.textPath = textField.split("\\.");
        this.domainPath = domainField == null ? null : domainField.split("\\.");
    }

    Fields parse(String line) throws BadLine {
        try (JsonParser p = FACTORY.createParser(line)) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw new BadLine("not a JSON object");
            String[] found = new String[2];
            walk(p, 0, true, domainPath != null, found);
            if (p.nextToken() != null) throw new BadLine("more after the JSON object");
            if (found[0] == null) throw new BadLine("no \"" + String.join(".", textPath) + "\" field");
            if (domainPath != null && found[1] == null) throw new BadLine("no \"" + String.join(".", domainPath) + "\" field");
            return new Fields(found[0], found[1]);
        } catch (JsonProcessingException e) {
            throw new BadLine("not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new BadLine("not valid JSON: " + e.getMessage());
        }
    }

    /** Inside an object at {@code depth}; on each path while the names so far match. */
    private void walk(JsonParser p, int depth, boolean onText, boolean onDomain, String[] found) throws IOException, BadLine {
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken v = p.nextToken();
            boolean text = onText && depth < textPath.length && textPath[depth].equals(name);
            boolean domain = onDomain && depth < domainPath.length && domainPath[depth].equals(name);
            if (text && depth == textPath.length - 1) {
                if (v != JsonToken.VALUE_STRING) throw new BadLine("\"" + String.join(".", textPath) + "\" is not a string");
                found[0] = p.getText();
            } else if (domain && depth == domainPath.length - 1) {
                if (v != JsonToken.VALUE_STRING) throw new BadLine("\"" + String.join(".", domainPath) + "\" is not a string");
                found[1] = p.getText();
            } else if (v == JsonToken.START_OBJECT && (text || domain)) {
                walk(p, depth + 1, text, domain, found);
            } else {
                p.skipChildren();
            }
        }
        if (t != JsonToken.END_OBJECT) throw new BadLine("not valid JSON");
    }
}
