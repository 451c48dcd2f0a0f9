package dev.cpt.spec;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;

/** Lists the fields a spec object accepts, for "unknown field" messages. */
final class KnownFields {
    private KnownFields() {}

    static String describe(Class<?> type) {
        if (!type.isRecord()) return "not allowed here";
        List<String> names = new ArrayList<>();
        if (ScheduleSpec.class.isAssignableFrom(type)) names.add("type");
        for (RecordComponent c : type.getRecordComponents()) {
            // @JsonProperty cannot target a record component, so it is found on the accessor, not on c.
            JsonProperty renamed = c.getAccessor().getAnnotation(JsonProperty.class);
            names.add(renamed != null ? renamed.value() : c.getName());
        }
        return "allowed: " + String.join(", ", names);
    }

    static String enumValues(Class<?> type) {
        List<String> names = new ArrayList<>();
        for (var field : type.getFields()) {
            if (!field.isEnumConstant()) continue;
            JsonProperty p = field.getAnnotation(JsonProperty.class);
            names.add("\"" + (p != null ? p.value() : field.getName()) + "\"");
        }
        return String.join(", ", names);
    }
}
