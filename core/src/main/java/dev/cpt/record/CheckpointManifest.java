package dev.cpt.record;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * {@code manifest.json} of a checkpoint: every file in it with its size and SHA-256, written last,
 * just before the checkpoint is renamed into place, and checked before a checkpoint is loaded.
 *
 * <p>A file whose writer is not the process that writes the manifest (a rank's shard in a
 * multi-rank run) carries its digest beside it, {@code FILE.sha256} in {@code sha256sum}'s format,
 * computed by the rank that wrote it, in parallel with the other ranks; the manifest takes those
 * digests instead of reading every shard again on rank 0. {@code sha256sum -c engine/*.sha256}
 * checks them by hand.
 *
 * <p>Checking is split the same way: {@link #problem} checks one file, and a multi-rank run gives
 * each rank its share of the files ({@link #entries}, in a fixed order every rank sees alike).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CheckpointManifest(String algorithm, List<Entry> files) {
    public static final String FILE = "manifest.json";
    public static final String SIDECAR = ".sha256";
    private static final String SHA_256 = "SHA-256";
    private static final int CHUNK = 1 << 20;

    /** One file: its path relative to the checkpoint, with '/' between names. */
    public record Entry(String path, long bytes, String sha256) {}

    public List<Entry> entries() {
        return files;
    }

    /** Hex SHA-256 of a file's bytes. */
    public static String sha256(Path file) throws IOException {
        MessageDigest digest = newDigest();
        ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (ch.read(buffer) >= 0) {
                buffer.flip();
                digest.update(buffer);
                buffer.clear();
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** Writes {@code FILE.sha256} beside {@code file} ({@code sha256sum}'s line: digest, two spaces, name). */
    public static void writeSidecar(Path file) throws IOException {
        AtomicFiles.writeString(sidecarOf(file), sha256(file) + "  " + file.getFileName() + "\n");
    }

    private static Path sidecarOf(Path file) {
        return file.resolveSibling(file.getFileName() + SIDECAR);
    }

    /**
     * Lists every file under {@code checkpoint} (sidecars, hidden temporaries and the manifest itself
     * aside), taking a file's digest from its sidecar where it has one, and writes the manifest.
     */
    public static CheckpointManifest write(Path checkpoint) throws IOException {
        List<Entry> entries = new ArrayList<>();
        for (Path file : contents(checkpoint)) {
            Path sidecar = sidecarOf(file);
            String digest = Files.exists(sidecar) ? readSidecar(sidecar, file) : sha256(file);
            entries.add(new Entry(relative(checkpoint, file), Files.size(file), digest));
        }
        CheckpointManifest manifest = new CheckpointManifest(SHA_256, List.copyOf(entries));
        AtomicFiles.writeJson(checkpoint.resolve(FILE), manifest);
        return manifest;
    }

    /**
     * The manifest of {@code checkpoint}; empty for a checkpoint written before cpt kept them.
     *
     * @throws IOException naming the manifest when it is there but cannot be read
     */
    public static Optional<CheckpointManifest> read(Path checkpoint) throws IOException {
        Path file = checkpoint.resolve(FILE);
        if (!Files.exists(file)) return Optional.empty();
        CheckpointManifest m;
        try {
            m = Json.MAPPER.readValue(file.toFile(), CheckpointManifest.class);
        } catch (IOException e) {
            throw new IOException(file + " cannot be read: " + e.getMessage(), e);
        }
        if (m.files() == null || !SHA_256.equals(m.algorithm())) {
            throw new IOException(file + " is not a checkpoint manifest (it needs \"algorithm\": \"SHA-256\" and \"files\")");
        }
        return Optional.of(m);
    }

    /** How a file differs from its entry; the codes are what ranks sum to tell each other (1, 2, 3). */
    public enum Damage {
        MISSING("is missing"), SIZE("has another size than the manifest says"), CHECKSUM("fails its checksum");

        private final String summary;

        Damage(String summary) {
            this.summary = summary;
        }

        public int code() {
            return ordinal() + 1;
        }

        public static Damage ofCode(int code) {
            return values()[code - 1];
        }

        /** The file's path and this damage, for a file another process checked. */
        public String describe(String path) {
            return path + " " + summary;
        }
    }

    /** One damaged file: what is wrong, and the whole story (sizes, digests). */
    public record Problem(Damage damage, String message) {}

    /** What is wrong with one file of the checkpoint: missing, of another size, or of another digest; empty if nothing. */
    public static Optional<Problem> problem(Path checkpoint, Entry entry) throws IOException {
        Path file = checkpoint.resolve(entry.path());
        if (!Files.isRegularFile(file)) return Optional.of(new Problem(Damage.MISSING, entry.path() + " is missing"));
        long size = Files.size(file);
        if (size != entry.bytes()) {
            return Optional.of(new Problem(Damage.SIZE, entry.path() + " has " + size + " bytes, the manifest says " + entry.bytes()));
        }
        String digest = sha256(file);
        if (!digest.equals(entry.sha256())) {
            return Optional.of(new Problem(Damage.CHECKSUM,
                    entry.path() + " fails its checksum (SHA-256 " + digest + ", the manifest says " + entry.sha256() + ")"));
        }
        return Optional.empty();
    }

    /**
     * Checks every file of {@code checkpoint} in this process.
     *
     * @throws IOException naming the first file that is missing or damaged, or an unreadable manifest
     */
    public static void verify(Path checkpoint) throws IOException {
        Optional<CheckpointManifest> manifest = read(checkpoint);
        if (manifest.isEmpty()) return;
        for (Entry e : manifest.get().entries()) {
            Optional<Problem> p = problem(checkpoint, e);
            if (p.isPresent()) throw new IOException("checkpoint " + checkpoint + " is damaged: " + p.get().message());
        }
    }

    private static String readSidecar(Path sidecar, Path file) throws IOException {
        String line = Files.readString(sidecar, StandardCharsets.UTF_8).strip();
        int space = line.indexOf(' ');
        String digest = space < 0 ? line : line.substring(0, space);
        if (!digest.matches("[0-9a-f]{64}")) throw new IOException(sidecar + " holds no SHA-256 of " + file.getFileName());
        return digest;
    }

    /** The checkpoint's files, in a fixed order (by relative path). */
    private static List<Path> contents(Path checkpoint) throws IOException {
        try (Stream<Path> s = Files.walk(checkpoint)) {
            return s.filter(Files::isRegularFile)
                    .filter(p -> {
                        String name = p.getFileName().toString();
                        return !name.startsWith(".") && !name.endsWith(SIDECAR) && !p.equals(checkpoint.resolve(FILE));
                    })
                    .sorted((a, b) -> relative(checkpoint, a).compareTo(relative(checkpoint, b)))
                    .toList();
        } catch (NoSuchFileException e) {
            throw new IOException(checkpoint + " is missing", e);
        }
    }

    private static String relative(Path root, Path file) {
        return root.relativize(file).toString().replace(java.io.File.separatorChar, '/');
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance(SHA_256);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
