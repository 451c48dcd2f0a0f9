package dev.cpt.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cpt.hf.SafetensorsFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes float32 tensors in the safetensors format (huggingface/safetensors): an 8-byte
 * little-endian header length N, N bytes of UTF-8 JSON — {@code {"name": {"dtype": "F32", "shape":
 * [..], "data_offsets": [begin, end]}, ..., "__metadata__": {string: string}}} with offsets relative
 * to the end of the header — then the raw little-endian data. The header is padded with spaces to a
 * multiple of 8 bytes, as the reference writer does, so the data is aligned.
 *
 * <p>Only F32 is written or accepted. Files are written to a temporary name and renamed, so a crash
 * never leaves half a file under the real name.
 */
public final class SafeTensors {
    private SafeTensors() {}

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Larger headers are refused rather than read (the reference implementation's limit). */
    private static final long MAX_HEADER = 100_000_000L;

    /** A tensor to write: {@code size} floats of {@code data} from {@code offset}, with a shape. */
    public record Source(String name, int[] shape, float[] data, int offset) {}

    /** A tensor read back. */
    public record Tensor(int[] shape, float[] data) {}

    /** A file's tensors in file order, and its metadata. */
    public record Contents(Map<String, String> metadata, Map<String, Tensor> tensors) {}

    public static void write(Path file, Map<String, String> metadata, List<Source> tensors) throws IOException {
        List<SafetensorsFiles.F32Slice> slices = new java.util.ArrayList<>();
        for (Source t : tensors) slices.add(new SafetensorsFiles.F32Slice(t.name(), t.shape(), t.data(), t.offset()));
        SafetensorsFiles.writeF32(file, metadata, slices);
    }

    /** Reads and checks a whole file; every problem is an IOException whose message names the file. */
    public static Contents read(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IOException(file + ": no such file");
        }
        if (bytes.length < 8) throw bad(file, "is " + bytes.length + " bytes long, too short for a safetensors header");
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = buf.getLong(0);
        if (n <= 0 || n > MAX_HEADER || n > bytes.length - 8L) {
            throw bad(file, "header length " + Long.toUnsignedString(n) + " does not fit in a file of " + bytes.length + " bytes");
        }
        JsonNode header;
        try {
            header = JSON.readTree(new String(bytes, 8, (int) n, StandardCharsets.UTF_8).strip());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw bad(file, "header is not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (header == null || !header.isObject()) throw bad(file, "header is not a JSON object");
        int dataStart = 8 + (int) n;
        long dataBytes = bytes.length - (long) dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        long covered = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = header.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) throw bad(file, "__metadata__ is not an object");
                v.properties().forEach(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            String dtype = v.path("dtype").asText("");
            if (!dtype.equals("F32")) throw bad(file, "tensor " + name + " has dtype \"" + dtype + "\"; only F32 is supported");
            JsonNode shapeNode = v.path("shape");
            JsonNode offsets = v.path("data_offsets");
            if (!shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
                throw bad(file, "tensor " + name + " lacks a shape or its two data_offsets");
            }
            int[] shape = new int[shapeNode.size()];
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = shapeNode.get(i);
                if (!d.canConvertToInt() || d.asInt() < 0) throw bad(file, "tensor " + name + " has a bad shape " + shapeNode);
                shape[i] = d.asInt();
            }
            long begin = offsets.get(0).asLong(-1);
            long end = offsets.get(1).asLong(-1);
            long expected = 4L * count(shape);
            if (begin < 0 || end < begin || end > dataBytes) {
                throw bad(file, "tensor " + name + " has data_offsets [" + begin + ", " + end + "] outside the "
                        + dataBytes + " data bytes (is the file truncated?)");
            }
            if (end - begin != expected) {
                throw bad(file, "tensor " + name + " of shape " + java.util.Arrays.toString(shape) + " needs " + expected
                        + " bytes, its data_offsets give " + (end - begin));
            }
            float[] data = new float[(int) (expected / 4)];
            ByteBuffer.wrap(bytes, dataStart + (int) begin, (int) expected).order(ByteOrder.LITTLE_ENDIAN)
                    .asFloatBuffer().get(data);
            tensors.put(name, new Tensor(shape, data));
            covered += expected;
        }
        if (covered != dataBytes) {
            throw bad(file, "holds " + dataBytes + " data bytes, its tensors account for " + covered);
        }
        return new Contents(Collections.unmodifiableMap(metadata), Collections.unmodifiableMap(tensors));
    }

    static long count(int[] shape) {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    private static IOException bad(Path file, String what) {
        return new IOException(file + ": " + what);
    }
}
