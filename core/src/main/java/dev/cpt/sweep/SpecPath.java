package dev.cpt.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * A path into a run spec's JSON, written as problem paths are: {@code stages[1].lr.max},
 * {@code eval.every}, {@code datasets.en.train}. A path is fields separated by dots, each field
 * followed by any number of list indexes {@code [i]}; a field name is any text without
 * {@code .}, {@code [} or {@code ]}.
 */
record SpecPath(String text, List<Step> steps) {

    /** One step down the tree: into a field of an object, or an element of a list. */
    sealed interface Step permits Field, Index {}

    record Field(String name) implements Step {}

    record Index(int index) implements Step {}

    /** Parses {@code text}; throws {@link IllegalArgumentException} with a message fit for a problem. */
    static SpecPath parse(String text) {
        List<Step> steps = new ArrayList<>();
        int i = 0, n = text.length();
        if (n == 0) throw new IllegalArgumentException("an empty path; write one like stages[1].lr.max");
        while (true) {
            int start = i;
            while (i < n && "[].".indexOf(text.charAt(i)) < 0) i++;
            if (i == start) {
                throw new IllegalArgumentException("\"" + text + "\" is not a path: a field name is missing at character "
                        + (start + 1) + "; write one like stages[1].lr.max");
            }
            steps.add(new Field(text.substring(start, i)));
            while (i < n && text.charAt(i) == '[') {
                int close = text.indexOf(']', i);
                String digits = close < 0 ? "" : text.substring(i + 1, close);
                if (close < 0 || digits.isEmpty() || !digits.chars().allMatch(Character::isDigit) || digits.length() > 9) {
                    throw new IllegalArgumentException("\"" + text + "\" is not a path: expected a list index like [1] at character "
                            + (i + 1));
                }
                steps.add(new Index(Integer.parseInt(digits)));
                i = close + 1;
            }
            if (i == n) break;
            if (text.charAt(i) != '.') {
                throw new IllegalArgumentException("\"" + text + "\" is not a path: unexpected '" + text.charAt(i)
                        + "' at character " + (i + 1));
            }
            i++;
            if (i == n) throw new IllegalArgumentException("\"" + text + "\" is not a path: it ends with a dot");
        }
        return new SpecPath(text, List.copyOf(steps));
    }

    /**
     * Sets the value at this path in {@code root}, replacing what is there (a whole object, if the
     * value is one). A field that does not exist is added when its object exists; a {@code null}
     * value removes a field. Returns null when done, else why it cannot be done (nothing changed).
     */
    String apply(ObjectNode root, JsonNode value) {
        JsonNode node = root;
        StringBuilder at = new StringBuilder();
        for (int k = 0; k < steps.size(); k++) {
            Step step = steps.get(k);
            boolean last = k == steps.size() - 1;
            switch (step) {
                case Field f -> {
                    if (!(node instanceof ObjectNode object)) return notA(at, node, "an object", f.name());
                    if (last) {
                        if (value == null || value.isNull()) object.remove(f.name());
                        else object.set(f.name(), value.deepCopy());
                        return null;
                    }
                    JsonNode next = object.get(f.name());
                    at.append(at.isEmpty() ? "" : ".").append(f.name());
                    if (next == null || next.isNull()) {
                        return at + " does not exist, so \"" + text + "\" has nowhere to go; set \"" + at + "\" as a whole instead";
                    }
                    node = next;
                }
                case Index x -> {
                    if (!(node instanceof ArrayNode array)) return notA(at, node, "a list", "[" + x.index() + "]");
                    if (x.index() >= array.size()) {
                        return at + "[" + x.index() + "] is out of range: " + at + " has " + array.size()
                                + (array.size() == 1 ? " element" : " elements");
                    }
                    if (last) {
                        array.set(x.index(), value == null ? com.fasterxml.jackson.databind.node.NullNode.getInstance() : value.deepCopy());
                        return null;
                    }
                    at.append('[').append(x.index()).append(']');
                    node = array.get(x.index());
                }
            }
        }
        throw new AssertionError("a path has at least one step");
    }

    private String notA(StringBuilder at, JsonNode node, String expected, String into) {
        String where = at.isEmpty() ? "the spec" : at.toString();
        return where + " is " + describe(node) + ", not " + expected + ", so \"" + text + "\" cannot reach " + into + " in it";
    }

    static String describe(JsonNode n) {
        if (n.isObject()) return "an object";
        if (n.isArray()) return "a list";
        if (n.isNumber()) return "a number";
        if (n.isTextual()) return "a string";
        if (n.isBoolean()) return "true or false";
        return "null";
    }

    /** Groups of the path: each field with its indexes, e.g. {@code stages[1]}, {@code lr}, {@code max}. */
    List<String> groups() {
        List<String> groups = new ArrayList<>();
        StringBuilder g = null;
        for (Step s : steps) {
            switch (s) {
                case Field f -> {
                    if (g != null) groups.add(g.toString());
                    g = new StringBuilder(f.name());
                }
                case Index x -> g.append('.').append(x.index());
            }
        }
        groups.add(g.toString());
        return groups;
    }

    @Override
    public String toString() {
        return text;
    }
}
