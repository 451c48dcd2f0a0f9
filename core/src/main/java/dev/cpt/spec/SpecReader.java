package dev.cpt.spec;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.DeserializationProblemHandler;
import com.fasterxml.jackson.databind.deser.ValueInstantiator;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.jsontype.TypeIdResolver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads a run spec from JSON. Unknown fields, values of the wrong type and unknown schedule types
 * do not stop the reading: each becomes a problem with its JSON path, the semantic checks run on
 * what could be read, and one {@link SpecException} lists them all.
 */
public final class SpecReader {

    private SpecReader() {}

    public static RunSpec read(Path file) {
        return read(readText(file), file.toString());
    }

    /** A spec file's text; a missing or unreadable file is a {@link SpecException} naming it. */
    public static String readText(Path file) {
        try {
            return Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new SpecException(file.toString(), List.of(new Problems.Problem("", "no such file")));
        } catch (IOException e) {
            throw new SpecException(file.toString(), List.of(new Problems.Problem("", "cannot read: " + e.getMessage())));
        }
    }

    /** Reads and validates; {@code source} names the spec in messages. */
    public static RunSpec read(String json, String source) {
        return read(json, source, true).withInitShape();
    }

    /**
     * A run's own {@code spec.json} (as {@code cpt eval}, {@code cpt export}, the report and a
     * {@code run:} init read it back): validated like any spec but without reading the files it
     * names, whose relative paths were the training's working directory's. Its model's shape is
     * already written out from its init.
     */
    public static RunSpec readStored(Path file) {
        return read(readText(file), file.toString(), false);
    }

    private static RunSpec read(String json, String source, boolean readsFiles) {
        Problems problems = new Problems(readsFiles);
        RunSpec spec = parse(json, source, problems);
        if (spec == null) {
            if (problems.isEmpty()) problems.add("", "the spec is empty (null)");
            throw new SpecException(source, problems.all());
        }
        spec.validate(problems);
        if (!problems.isEmpty()) throw new SpecException(source, problems.all());
        return spec;
    }

    /** Binds JSON to a spec, recording binding problems instead of stopping at the first. */
    static RunSpec parse(String json, String source, Problems problems) {
        ObjectMapper mapper = mapper().copy().addHandler(new CollectingHandler(problems));
        try {
            return mapper.readValue(json, RunSpec.class);
        } catch (com.fasterxml.jackson.databind.JsonMappingException e) {
            // Malformed JSON inside an object arrives wrapped, with a path but without its line and column.
            for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
                if (c instanceof JsonParseException malformed) {
                    malformed(malformed, problems);
                    return null;
                }
            }
            // A binding error the handler could not absorb: report it at its path and stop.
            problems.add(mappingPath(e), e.getOriginalMessage());
            return null;
        } catch (JsonProcessingException e) {
            malformed(e, problems);
            return null;
        }
    }

    /** Malformed JSON: nothing after it can be trusted, so no problem after it is reported. */
    private static void malformed(JsonProcessingException e, Problems problems) {
        JsonLocation at = e.getLocation();
        String where = at == null ? "" : "line " + at.getLineNr() + ", column " + at.getColumnNr();
        problems.add(where, "not valid JSON: " + e.getOriginalMessage());
    }

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .addModule(new com.fasterxml.jackson.databind.module.SimpleModule("cpt-spec")
                    .addDeserializer(Long.class, WholeNumberDeserializer.LONGS)
                    .addDeserializer(Integer.class, WholeNumberDeserializer.INTS)
                    .addDeserializer(Double.class, RealNumberDeserializer.INSTANCE))
            .build();

    /** The mapper specs are read with (strict: no silent coercions, duplicates are errors). */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    private static String mappingPath(com.fasterxml.jackson.databind.JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (var ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                if (!sb.isEmpty()) sb.append('.');
                sb.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                sb.append('[').append(ref.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    /** The JSON path of the parser's current position, as {@code stages[1].replay.fraction}. */
    static String path(JsonStreamContext context) {
        StringBuilder sb = new StringBuilder();
        build(context, sb);
        return sb.toString();
    }

    private static void build(JsonStreamContext c, StringBuilder sb) {
        if (c == null || c.inRoot()) return;
        build(c.getParent(), sb);
        if (c.inArray()) {
            sb.append('[').append(Math.max(0, c.getCurrentIndex())).append(']');
        } else if (c.getCurrentName() != null) {
            if (!sb.isEmpty()) sb.append('.');
            sb.append(c.getCurrentName());
        }
    }

    private static final class CollectingHandler extends DeserializationProblemHandler {
        private final Problems problems;

        CollectingHandler(Problems problems) {
            this.problems = problems;
        }

        @Override
        public boolean handleUnknownProperty(DeserializationContext ctxt, JsonParser p, JsonDeserializer<?> deserializer,
                                             Object beanOrClass, String propertyName) throws IOException {
            Class<?> type = beanOrClass instanceof Class<?> c ? c : beanOrClass.getClass();
            problems.add(Problems.child(ownerPath(ctxt), propertyName), "unknown field; " + KnownFields.describe(type));
            p.skipChildren();
            return true;
        }

        @Override
        public Object handleWeirdStringValue(DeserializationContext ctxt, Class<?> targetType, String value,
                                             String failureMsg) {
            problems.add(path(ctxt.getParser().getParsingContext()), expected(targetType) + ", got \"" + value + "\"");
            return null;
        }

        @Override
        public Object handleWeirdNumberValue(DeserializationContext ctxt, Class<?> targetType, Number value,
                                             String failureMsg) {
            problems.add(path(ctxt.getParser().getParsingContext()), expected(targetType) + ", got " + value);
            return null;
        }

        @Override
        public Object handleUnexpectedToken(DeserializationContext ctxt, JavaType targetType, JsonToken t,
                                            JsonParser p, String failureMsg) throws IOException {
            String got = describe(t, p);
            String path = path(p.getParsingContext());
            if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
                // The context of a just-opened container is the container itself; report its parent's field.
                path = path(p.getParsingContext().getParent());
            }
            problems.add(path, expected(targetType.getRawClass()) + ", got " + got);
            p.skipChildren();
            return null;
        }

        /** A scalar where an object is expected: reported like any other wrong type, and reading goes on. */
        @Override
        public Object handleMissingInstantiator(DeserializationContext ctxt, Class<?> instClass,
                                                ValueInstantiator valueInsta, JsonParser p, String msg) throws IOException {
            JsonToken t = p.currentToken();
            String path = path(p.getParsingContext());
            if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) path = path(p.getParsingContext().getParent());
            problems.add(path, expected(instClass) + ", got " + describe(t, p));
            p.skipChildren();
            return null;
        }

        private static String describe(JsonToken t, JsonParser p) throws IOException {
            if (t == null) return "nothing";
            return switch (t) {
                case START_OBJECT -> "an object";
                case START_ARRAY -> "a list";
                case VALUE_STRING -> "\"" + p.getText() + "\"";
                case VALUE_TRUE, VALUE_FALSE -> p.getText();
                case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> p.getText();
                default -> t.asString() == null ? t.name() : t.asString();
            };
        }

        /**
         * Path of the object whose field is being read. Records buffer unknown fields and replay them
         * from a token buffer whose parsing context does not tell where they were, so this asks the
         * input's own parser, which stands on the field's value, on a later field's name, or (its
         * context already closed) on the object's end.
         */
        private static String ownerPath(DeserializationContext ctxt) {
            JsonParser main = ctxt.getParser();
            JsonStreamContext c = main.getParsingContext();
            JsonToken t = main.currentToken();
            if (t == JsonToken.END_OBJECT) return path(c);
            if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) c = c.getParent();
            return path(c.getParent());
        }

        @Override
        public JavaType handleUnknownTypeId(DeserializationContext ctxt, JavaType baseType, String subTypeId,
                                            TypeIdResolver idResolver, String failureMsg) {
            problems.add(typePath(ctxt), "unknown type \"" + subTypeId + "\"; known: " + ScheduleSpec.TYPES);
            return ctxt.constructType(ScheduleSpec.Unreadable.class);
        }

        @Override
        public JavaType handleMissingTypeId(DeserializationContext ctxt, JavaType baseType, TypeIdResolver idResolver,
                                            String failureMsg) {
            JsonToken t = ctxt.getParser().currentToken();
            // A scalar or a list is no object at all: reading it as Unreadable reports "expected an object".
            if (t != null && (t.isScalarValue() || t == JsonToken.START_ARRAY)) {
                return ctxt.constructType(ScheduleSpec.Unreadable.class);
            }
            problems.add(typePath(ctxt), "missing; one of " + ScheduleSpec.TYPES);
            return ctxt.constructType(ScheduleSpec.Unreadable.class);
        }

        /** Path of the {@code type} field of the object being read, wherever the parser stands in it. */
        private static String typePath(DeserializationContext ctxt) {
            JsonParser p = ctxt.getParser();
            JsonStreamContext c = p.getParsingContext();
            // Inside the object, its path is the parent's; once it closed, the context is the parent.
            String objectPath = p.currentToken() == JsonToken.END_OBJECT ? path(c) : path(c.getParent());
            return Problems.child(objectPath, "type");
        }

        private static String expected(Class<?> type) {
            if (type == Double.class || type == double.class) return "expected a number";
            if (type == Long.class || type == long.class || type == Integer.class || type == int.class) {
                return "expected a whole number";
            }
            if (type == Boolean.class || type == boolean.class) return "expected true or false";
            if (type == String.class) return "expected a string";
            if (type.isEnum()) return "expected one of " + KnownFields.enumValues(type);
            if (java.util.Map.class.isAssignableFrom(type)) return "expected an object of name: value";
            if (java.util.List.class.isAssignableFrom(type)) return "expected a list";
            return "expected an object";
        }
    }
}
