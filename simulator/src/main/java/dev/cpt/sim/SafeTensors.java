package dev.cpt.sim;

import dev.cpt.hf.SafetensorsFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
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

    /**
     * Reads and checks a whole file of float32 tensors (a checkpoint's); every problem is an
     * IOException whose message names the file. The header is read and checked as for any
     * safetensors file ({@link SafetensorsFiles#header}); a checkpoint must also be F32 throughout
     * and hold no bytes its tensors do not account for.
     */
    public static Contents read(Path file) throws IOException {
        Map<String, SafetensorsFiles.Entry> entries = SafetensorsFiles.header(file);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        long covered = 0, dataStart = -1;
        for (SafetensorsFiles.Entry e : entries.values()) {
            if (!e.dtype().equals("F32")) throw bad(file, "tensor " + e.name() + " has dtype \"" + e.dtype() + "\"; only F32 is supported");
            dev.cpt.hf.Tensor t = e.read();
            tensors.put(e.name(), new Tensor(t.shape(), t.data()));
            covered += e.end() - e.begin();
            dataStart = e.dataStart();
        }
        long dataBytes = dataStart < 0 ? 0 : Files.size(file) - dataStart;
        if (dataStart >= 0 && covered != dataBytes) {
            throw bad(file, "holds " + dataBytes + " data bytes, its tensors account for " + covered);
        }
        return new Contents(SafetensorsFiles.metadata(file), Collections.unmodifiableMap(tensors));
    }

    private static IOException bad(Path file, String what) {
        return new IOException(file + ": " + what);
    }
}
