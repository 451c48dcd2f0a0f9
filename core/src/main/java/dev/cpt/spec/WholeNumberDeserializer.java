package dev.cpt.spec;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import java.io.IOException;

/**
 * Step and token counts: whole numbers, also when written as {@code 4e6} or {@code 100.0};
 * {@code 12.5} is a problem rather than silently truncated. Problems go to the context's handler.
 */
final class WholeNumberDeserializer<T extends Number> extends JsonDeserializer<T> {

    private final Class<T> type;
    private final long min;
    private final long max;

    private WholeNumberDeserializer(Class<T> type, long min, long max) {
        this.type = type;
        this.min = min;
        this.max = max;
    }

    static final WholeNumberDeserializer<Long> LONGS =
            new WholeNumberDeserializer<>(Long.class, Long.MIN_VALUE, Long.MAX_VALUE);
    static final WholeNumberDeserializer<Integer> INTS =
            new WholeNumberDeserializer<>(Integer.class, Integer.MIN_VALUE, Integer.MAX_VALUE);

    @Override
    public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
            double d = p.getDoubleValue();
            boolean whole = t == JsonToken.VALUE_NUMBER_INT
                    ? p.getNumberType() != JsonParser.NumberType.BIG_INTEGER
                    : d == Math.rint(d);
            if (whole && d >= min && d <= max) {
                long v = t == JsonToken.VALUE_NUMBER_INT ? p.getLongValue() : (long) d;
                // Not a ?: expression: that would unbox both arms to long.
                if (type == Integer.class) return type.cast(Integer.valueOf((int) v));
                return type.cast(Long.valueOf(v));
            }
            return type.cast(ctxt.handleWeirdNumberValue(type, p.getNumberValue(), "not a whole number in range"));
        }
        if (t == JsonToken.VALUE_STRING) {
            return type.cast(ctxt.handleWeirdStringValue(type, p.getText(), "not a number"));
        }
        return type.cast(ctxt.handleUnexpectedToken(type, p));
    }
}
