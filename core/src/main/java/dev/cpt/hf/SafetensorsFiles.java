package dev.cpt.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cpt.record.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A Hugging Face model directory's weights in safetensors (huggingface/safetensors): an 8-byte
 * little-endian header length N, N bytes of JSON ({@code {"name": {"dtype", "shape",
 * "data_offsets": [begin, end]}, "__metadata__": {...}}}, offsets relative to the end of the
 * header), then the raw little-endian data. Either one {@value #SINGLE} or shards
 * {@code model-0000k-of-0000n.safetensors} listed by {@value #INDEX}'s {@code weight_map}.
 *
 * <p>Reading takes F32, F16 and BF16 and gives float32 (both half formats convert exactly). Headers
 * are read up front and checked against the file's length, so a truncated file is named before
 * any tensor is used; a tensor's data is read when it is asked for. Writing is F32 with
 * {@code {"format": "pt"}} metadata, which transformers' loader asks for.
 */
public final class SafetensorsFiles {
    private SafetensorsFiles() {}

    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";
    /** transformers' default {@code max_shard_size} ("5GB"). */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Larger headers are refused rather than read (the reference implementation's limit). */
    private static final long MAX_HEADER = 100_000_000L;

    /** One stored tensor: where its bytes are, read on {@link #read()}. */
    public record Entry(String name, Path file, String dtype, int[] shape, long dataStart, long begin, long end) {
        public Tensor read() throws IOException {
            if (!dtype.equals("F32") && !dtype.equals("F16") && !dtype.equals("BF16")) {
                throw new IOException(file + ": tensor " + name + " has dtype " + dtype + "; cpt reads F32, F16 and BF16 weights");
            }
            long n = Tensor.count(shape);
            if (n > Integer.MAX_VALUE - 16) throw new IOException(file + ": tensor " + name + " has " + n + " values, more than cpt holds in one array");
            ByteBuffer buf = ByteBuffer.allocate((int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                long at = dataStart + begin;
                while (buf.hasRemaining()) {
                    int got = ch.read(buf, at + buf.position());
                    if (got < 0) throw new IOException(file + ": is truncated: tensor " + name + " ends at byte " + (dataStart + end) + " of a shorter file");
                }
            }
            buf.flip();
            float[] out = new float[(int) n];
            switch (dtype) {
                case "F32" -> buf.asFloatBuffer().get(out);
                case "F16" -> {
                    for (int i = 0; i < out.length; i++) out[i] = Float.float16ToFloat(buf.getShort());
                }
                case "BF16" -> {
                    for (int i = 0; i < out.length; i++) out[i] = Float.intBitsToFloat((buf.getShort() & 0xFFFF) << 16);
                }
                default -> throw new IllegalStateException(dtype);
            }
            return new Tensor(shape, out);
        }
    }

    /** Bytes per value of the safetensors dtypes; other types (e.g. a mask buffer's BOOL) are listed but not read. */
    private static int bytesPer(String dtype) {
        return switch (dtype) {
            case "F64", "I64", "U64" -> 8;
            case "F32", "I32", "U32" -> 4;
            case "F16", "BF16", "I16", "U16" -> 2;
            case "BOOL", "I8", "U8", "F8_E4M3", "F8_E5M2" -> 1;
            default -> -1;
        };
    }

    /** Whether {@code dir} holds safetensors weights in either layout. */
    public static boolean present(Path dir) {
        return Files.isRegularFile(dir.resolve(SINGLE)) || Files.isRegularFile(dir.resolve(INDEX));
    }

    /**
     * Every tensor of the directory's weights, in file order; the index wins over a single file
     * when both exist (as transformers decides). Without either, a {@code pytorch_model.bin} is
     * named as unreadable pickle.
     */
    public static Map<String, Entry> open(Path dir) throws IOException {
        Path index = dir.resolve(INDEX);
        if (Files.isRegularFile(index)) return openSharded(dir, index);
        Path single = dir.resolve(SINGLE);
        if (Files.isRegularFile(single)) return header(single);
        boolean pickle = Files.exists(dir.resolve("pytorch_model.bin")) || Files.exists(dir.resolve("pytorch_model.bin.index.json"));
        if (pickle) {
            throw new IOException(dir + ": holds pytorch_model.bin (a Python pickle), which cpt does not read; convert it to "
                    + "safetensors first, e.g. in Python: AutoModelForCausalLM.from_pretrained(DIR).save_pretrained(DIR, "
                    + "safe_serialization=True), or the safetensors project's convert.py");
        }
        throw new IOException(dir + ": has no " + SINGLE + " and no " + INDEX);
    }

    private static Map<String, Entry> openSharded(Path dir, Path index) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(index.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(index + ": is not valid JSON (" + e.getOriginalMessage() + ")");
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) throw new IOException(index + ": has no weight_map object");
        Map<String, String> fileOf = new LinkedHashMap<>();
        map.properties().forEach(e -> fileOf.put(e.getKey(), e.getValue().asText()));
        Map<String, Entry> all = new LinkedHashMap<>();
        for (String shard : new java.util.LinkedHashSet<>(fileOf.values())) {
            Path file = dir.resolve(shard);
            if (!Files.isRegularFile(file)) throw new IOException(index + ": names shard " + shard + ", which " + dir + " lacks");
            for (Entry e : header(file).values()) {
                String listed = fileOf.get(e.name());
                if (listed == null) throw new IOException(file + ": holds tensor " + e.name() + ", which " + index + " does not list");
                if (!listed.equals(shard)) throw new IOException(index + ": puts tensor " + e.name() + " in " + listed + ", but " + shard + " holds it");
                all.put(e.name(), e);
            }
        }
        for (var e : fileOf.entrySet()) {
            if (!all.containsKey(e.getKey())) throw new IOException(dir.resolve(e.getValue()) + ": lacks tensor " + e.getKey() + ", which " + index + " puts there");
        }
        return all;
    }

    /** A file's tensors as its header describes them, each checked to lie inside the file. */
    public static Map<String, Entry> header(Path file) throws IOException {
        Header h = readHeader(file);
        long dataStart = 8 + h.length();
        long dataBytes = h.fileSize() - dataStart;
        Map<String, Entry> out = new LinkedHashMap<>();
        for (var e : h.json().properties()) {
            String name = e.getKey();
            if (name.equals("__metadata__")) continue;
            JsonNode v = e.getValue();
            String dtype = v.path("dtype").asText("");
            int width = bytesPer(dtype);
            if (width < 0) throw new IOException(file + ": tensor " + name + " has an unknown dtype \"" + dtype + "\"");
            JsonNode shapeNode = v.path("shape");
            JsonNode offsets = v.path("data_offsets");
            if (!shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
                throw new IOException(file + ": tensor " + name + " lacks a shape or its two data_offsets");
            }
            int[] shape = new int[shapeNode.size()];
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = shapeNode.get(i);
                if (!d.canConvertToInt() || d.asInt() < 0) throw new IOException(file + ": tensor " + name + " has a bad shape " + shapeNode);
                shape[i] = d.asInt();
            }
            long begin = offsets.get(0).asLong(-1);
            long end = offsets.get(1).asLong(-1);
            if (begin < 0 || end < begin) throw new IOException(file + ": tensor " + name + " has bad data_offsets " + offsets);
            if (end - begin != width * Tensor.count(shape)) {
                throw new IOException(file + ": tensor " + name + " of shape " + Arrays.toString(shape) + " in " + dtype + " needs "
                        + width * Tensor.count(shape) + " bytes, its data_offsets give " + (end - begin));
            }
            if (end > dataBytes) {
                throw new IOException(file + ": is truncated: tensor " + name + " needs data bytes " + begin + " to " + end
                        + ", the file holds " + dataBytes);
            }
            out.put(name, new Entry(name, file, dtype, shape, dataStart, begin, end));
        }
        return Collections.unmodifiableMap(out);
    }

    /** The string metadata of one file's header (empty when it has none). */
    public static Map<String, String> metadata(Path file) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        JsonNode meta = readHeader(file).json().path("__metadata__");
        if (!meta.isMissingNode() && !meta.isObject()) throw new IOException(file + ": __metadata__ is not an object");
        meta.properties().forEach(m -> out.put(m.getKey(), m.getValue().asText()));
        return out;
    }

    /** A file's JSON header, its length in bytes (the 8-byte length prefix not counted) and the file's size. */
    private record Header(long length, JsonNode json, long fileSize) {}

    /** Reads and checks the header every safetensors file starts with: its length, then a JSON object. */
    private static Header readHeader(Path file) throws IOException {
        if (!Files.exists(file)) throw new IOException(file + ": no such file");
        long size = Files.size(file);
        if (size < 8) throw new IOException(file + ": is truncated: " + size + " bytes, too short for the 8-byte header length");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            while (len.hasRemaining()) ch.read(len, len.position());
            long n = len.getLong(0);
            if (n <= 0 || n > MAX_HEADER) throw new IOException(file + ": header length " + Long.toUnsignedString(n) + " is not a safetensors header's");
            if (8 + n > size) throw new IOException(file + ": is truncated: its header needs " + n + " bytes after the length, the file has " + (size - 8));
            ByteBuffer head = ByteBuffer.allocate((int) n);
            while (head.hasRemaining()) ch.read(head, 8 + head.position());
            JsonNode json;
            try {
                json = JSON.readTree(new String(head.array(), StandardCharsets.UTF_8).strip());
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IOException(file + ": header is not valid JSON (" + e.getOriginalMessage() + ")");
            }
            if (json == null || !json.isObject()) throw new IOException(file + ": header is not a JSON object");
            return new Header(n, json, size);
        }
    }

    /**
     * Writes {@code tensors} (in order) as F32 into {@code dir}: one {@value #SINGLE} when they
     * fit in {@code maxShardBytes}, else shards of at most that many data bytes (a larger tensor gets
     * a shard of its own) and {@value #INDEX}, named as transformers names them. Each file is written
     * under a temporary name and renamed.
     */
    public static void write(Path dir, Map<String, Tensor> tensors, long maxShardBytes) throws IOException {
        List<List<String>> shards = new ArrayList<>();
        List<String> current = new ArrayList<>();
        long currentBytes = 0;
        long total = 0;
        for (var e : tensors.entrySet()) {
            long bytes = 4L * e.getValue().data().length;
            if (!current.isEmpty() && currentBytes + bytes > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(e.getKey());
            currentBytes += bytes;
            total += bytes;
        }
        if (!current.isEmpty() || shards.isEmpty()) shards.add(current);
        Files.createDirectories(dir);
        if (shards.size() == 1) {
            writeFile(dir.resolve(SINGLE), shards.getFirst(), tensors);
            return;
        }
        Map<String, String> weightMap = new TreeMap<>();
        for (int k = 0; k < shards.size(); k++) {
            String name = String.format("model-%05d-of-%05d.safetensors", k + 1, shards.size());
            writeFile(dir.resolve(name), shards.get(k), tensors);
            for (String t : shards.get(k)) weightMap.put(t, name);
        }
        ObjectNode index = JSON.createObjectNode();
        index.putObject("metadata").put("total_size", total);
        ObjectNode wm = index.putObject("weight_map");
        weightMap.forEach(wm::put);
        AtomicFiles.writeString(dir.resolve(INDEX), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(index) + "\n");
    }

    private static void writeFile(Path file, List<String> names, Map<String, Tensor> tensors) throws IOException {
        List<F32Slice> slices = new ArrayList<>();
        for (String name : names) slices.add(new F32Slice(name, tensors.get(name).shape(), tensors.get(name).data(), 0));
        writeF32(file, Map.of("format", "pt"), slices);
    }

    /** A float32 tensor to write: {@code shape}'s element count of {@code data}, from {@code offset}. */
    public record F32Slice(String name, int[] shape, float[] data, int offset) {}

    /**
     * Writes one safetensors file of float32 tensors in the given order (8-byte little-endian header
     * length, the JSON header padded with spaces to 8 bytes, then the raw data), through a temporary
     * that is renamed into place. Both Hugging Face exports and the simulator's checkpoints use it.
     */
    public static void writeF32(Path file, Map<String, String> metadata, List<F32Slice> tensors) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long at = 0;
        for (F32Slice t : tensors) {
            long bytes = 4L * elements(t.shape());
            ObjectNode e = header.putObject(t.name());
            e.put("dtype", "F32");
            var shape = e.putArray("shape");
            for (int d : t.shape()) shape.add(d);
            e.putArray("data_offsets").add(at).add(at + bytes);
            at += bytes;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        AtomicFiles.write(file, out -> {
            ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(padded).put(json);
            while (head.hasRemaining()) head.put((byte) ' ');
            out.write(head.array());
            for (F32Slice t : tensors) {
                int n = (int) elements(t.shape());
                ByteBuffer buf = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
                buf.asFloatBuffer().put(t.data(), t.offset(), n);
                out.write(buf.array());
            }
        });
    }

    private static long elements(int[] shape) {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }
}
