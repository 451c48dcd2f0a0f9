package dev.cpt.spec;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import java.io.IOException;

/**
 * Rates, fractions and weights: a JSON number, never a string that looks like one ({@code "3e-4"}),
 * which Jackson would otherwise coerce silently. Problems go to the context's handler.
 */
final class RealNumberDeserializer extends JsonDeserializer<Double> {

    static final RealNumberDeserializer INSTANCE = new RealNumberDeserializer();

    private RealNumberDeserializer() {}

    @Override
    public Double deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
            return p.getDoubleValue();
        }
        if (t == JsonToken.VALUE_STRING) {
            return (Double) ctxt.handleWeirdStringValue(Double.class, p.getText(), "a string, not a number");
        }
        return (Double) ctxt.handleUnexpectedToken(Double.class, p);
    }
}
