package dev.cpt.ffi;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Reads native/cpt_torch.h and checks the hand-written bindings against it: every function has a
 * descriptor of the same argument and return types, every struct field a member of the same type
 * at the C offset, every macro a method of the same value; and the bindings have nothing the header
 * lacks. Needs no native library.
 */
class HeaderBindingsTest {

    static final Path HEADER = Path.of("..", "native", "cpt_torch.h");

    static String header() throws Exception {
        // without comments, on one line
        return Files.readString(HEADER).replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\\n]*", " ");
    }

    static MemoryLayout layoutOf(String cType) {
        String t = cType.trim();
        if (t.contains("*")) return cpt_torch_h.C_POINTER;
        return switch (t.replace("const ", "")) {
            case "int32_t" -> cpt_torch_h.C_INT;
            case "int64_t" -> cpt_torch_h.C_LONG;
            case "double" -> cpt_torch_h.C_DOUBLE;
            default -> throw new AssertionError("a C type the test does not know: " + cType);
        };
    }

    @Test
    void everyFunctionHasABindingOfTheSameSignature() throws Exception {
        String h = header().replaceAll("\\s+", " ");
        Matcher m = Pattern.compile("(const char \\*|int32_t |void )\\s*(cpt_\\w+)\\s*\\(([^)]*)\\);").matcher(h);
        List<String> names = new ArrayList<>();
        while (m.find()) {
            String ret = m.group(1).trim(), name = m.group(2), params = m.group(3).trim();
            names.add(name);
            List<MemoryLayout> args = new ArrayList<>();
            if (!params.equals("void") && !params.isEmpty()) {
                for (String p : params.split(",")) {
                    String type = p.trim().replaceAll("\\w+$", ""); // drop the parameter's name
                    args.add(layoutOf(type));
                }
            }
            FunctionDescriptor expected = ret.equals("void")
                    ? FunctionDescriptor.ofVoid(args.toArray(MemoryLayout[]::new))
                    : FunctionDescriptor.of(layoutOf(ret), args.toArray(MemoryLayout[]::new));
            Method accessor;
            try {
                accessor = cpt_torch_h.class.getMethod(name + "$descriptor");
            } catch (NoSuchMethodException e) {
                throw new AssertionError("cpt_torch.h declares " + name + " but cpt_torch_h has no binding for it");
            }
            FunctionDescriptor actual = (FunctionDescriptor) accessor.invoke(null);
            assertThat(actual.returnLayout().map(HeaderBindingsTest::unnamed)).as(name + " returns")
                    .isEqualTo(expected.returnLayout().map(HeaderBindingsTest::unnamed));
            assertThat(actual.argumentLayouts().stream().map(HeaderBindingsTest::unnamed).toList()).as(name + "'s arguments")
                    .isEqualTo(expected.argumentLayouts().stream().map(HeaderBindingsTest::unnamed).toList());
            // the typed wrapper exists with as many parameters
            assertThat(java.util.Arrays.stream(cpt_torch_h.class.getMethods()).filter(x -> x.getName().equals(name)))
                    .as(name + "'s wrapper").anySatisfy(x -> assertThat(x.getParameterCount()).isEqualTo(args.size()));
        }
        assertThat(names).contains("cpt_train_step", "cpt_last_error", "cpt_memory_statistics", "cpt_score_tokens", "cpt_decoder_append").hasSizeGreaterThan(15);
        List<String> bound = java.util.Arrays.stream(cpt_torch_h.class.getMethods()).map(Method::getName)
                .filter(n -> n.endsWith("$descriptor")).map(n -> n.substring(0, n.length() - "$descriptor".length())).toList();
        assertThat(bound).as("bindings the header does not declare").containsExactlyInAnyOrderElementsOf(names);
    }

    static MemoryLayout unnamed(MemoryLayout l) {
        return l.withoutName();
    }

    @Test
    void everyStructFieldHasAMemberOfTheSameTypeAndOffset() throws Exception {
        String h = header();
        Matcher m = Pattern.compile("typedef struct (\\w+) \\{([^}]*)\\} \\1;").matcher(h);
        Map<String, GroupLayout> structs = Map.of(
                "cpt_model_config", cpt_model_config.layout(),
                "cpt_step_result", cpt_step_result.layout(),
                "cpt_memory_stats", cpt_memory_stats.layout(),
                "cpt_group_config", cpt_group_config.layout(),
                "cpt_state_bytes", cpt_state_bytes.layout());
        List<String> seen = new ArrayList<>();
        while (m.find()) {
            String struct = m.group(1);
            seen.add(struct);
            GroupLayout layout = structs.get(struct);
            assertThat(layout).as("a struct class for " + struct).isNotNull();
            Map<String, MemoryLayout> fields = new LinkedHashMap<>();
            for (String decl : m.group(2).split(";")) {
                String d = decl.trim();
                if (d.isEmpty()) continue;
                String field = d.replaceAll(".*?(\\w+)$", "$1");
                fields.put(field, layoutOf(d.substring(0, d.length() - field.length())));
            }
            // C's natural alignment gives each field its offset
            long offset = 0;
            List<String> members = new ArrayList<>();
            for (MemoryLayout member : layout.memberLayouts()) member.name().ifPresent(members::add);
            assertThat(members).as(struct + "'s fields, in order").containsExactlyElementsOf(fields.keySet());
            for (var f : fields.entrySet()) {
                long size = f.getValue().byteSize();
                offset = (offset + size - 1) / size * size;
                MemoryLayout member = layout.select(MemoryLayout.PathElement.groupElement(f.getKey()));
                assertThat(unnamed(member)).as(struct + "." + f.getKey()).isEqualTo(unnamed(f.getValue()));
                assertThat(layout.byteOffset(MemoryLayout.PathElement.groupElement(f.getKey()))).as(struct + "." + f.getKey() + "'s offset")
                        .isEqualTo(offset);
                offset += size;
            }
        }
        assertThat(seen).containsExactlyInAnyOrderElementsOf(structs.keySet());
    }

    @Test
    void everyMacroHasAMethodOfTheSameValue() throws Exception {
        Matcher m = Pattern.compile("#define (CPT_\\w+) (\\d+)").matcher(header());
        int n = 0;
        while (m.find()) {
            Optional<Method> method = Optional.of(cpt_torch_h.class.getMethod(m.group(1)));
            assertThat(method.get().invoke(null)).as(m.group(1)).isEqualTo(Integer.parseInt(m.group(2)));
            n++;
        }
        assertThat(n).isGreaterThanOrEqualTo(12);
    }
}
