package dev.cpt.data.prepare;

import com.github.luben.zstd.ZstdInputStream;
import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/** One file to read: its format by name ({@code .jsonl} or text), its compression by suffix. */
record InputFile(Path path, Format format, Compression compression, long size) {

    enum Format { TEXT, JSONL }

    enum Compression { NONE, GZIP, ZSTD }

    static InputFile of(Path path) throws IOException {
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        Compression c = Compression.NONE;
        if (name.endsWith(".gz")) {
            c = Compression.GZIP;
            name = name.substring(0, name.length() - 3);
        } else if (name.endsWith(".zst")) {
            c = Compression.ZSTD;
            name = name.substring(0, name.length() - 4);
        } else if (name.endsWith(".zstd")) {
            c = Compression.ZSTD;
            name = name.substring(0, name.length() - 5);
        }
        Format f = name.endsWith(".jsonl") || name.endsWith(".ndjson") ? Format.JSONL : Format.TEXT;
        return new InputFile(path, f, c, Files.size(path));
    }

    /** The files the inputs name, in order; what a directory holds is sorted, and binary files in it are skipped. */
    record Listing(List<InputFile> files, List<String> skipped) {
        long totalBytes() {
            long n = 0;
            for (InputFile f : files) n += f.size;
            return n;
        }
    }

    static Listing list(List<Path> inputs) {
        List<InputFile> files = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (Path input : inputs) {
            if (!Files.exists(input)) throw new PrepareException(input, "no such file or directory");
            try {
                if (Files.isDirectory(input)) {
                    List<Path> found;
                    try (Stream<Path> walk = Files.walk(input, new FileVisitOption[0])) {
                        found = walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
                                .filter(p -> !hidden(input.relativize(p)))
                                .sorted(Comparator.comparing(p -> input.relativize(p).toString()))
                                .toList();
                    }
                    for (Path p : found) {
                        InputFile f = of(p);
                        if (f.format == Format.TEXT && f.compression == Compression.NONE && looksBinary(p)) {
                            skipped.add(p + " (binary)");
                        } else {
                            files.add(f);
                        }
                    }
                } else {
                    files.add(of(input));
                }
            } catch (IOException | java.io.UncheckedIOException e) {
                throw new PrepareException(input, 0, "cannot read: " + e.getMessage(), e);
            }
        }
        return new Listing(files, skipped);
    }

    private static boolean hidden(Path relative) {
        for (Path part : relative) if (part.toString().startsWith(".")) return true;
        return false;
    }

    /** A NUL byte in the first 8 KiB: an index or other binary file, not text. */
    private static boolean looksBinary(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            byte[] head = in.readNBytes(8192);
            for (byte b : head) if (b == 0) return true;
        }
        return false;
    }

    /** The bytes read from disk so far. */
    static final class CountingStream extends FilterInputStream {
        long count;

        CountingStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) count++;
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) count += n;
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long s = super.skip(n);
            count += s;
            return s;
        }
    }

    /** Decompressed, decoded text; malformed UTF-8 becomes U+FFFD. */
    Reader open(CountingStream[] counter) throws IOException {
        InputStream raw;
        try {
            raw = Files.newInputStream(path);
        } catch (NoSuchFileException e) {
            throw new PrepareException(path, "no such file");
        }
        CountingStream counting = new CountingStream(raw);
        counter[0] = counting;
        InputStream in;
        try {
            in = switch (compression) {
                case NONE -> counting;
                case GZIP -> new GZIPInputStream(counting, 1 << 16);
                case ZSTD -> new ZstdInputStream(new BufferedInputStream(counting, 1 << 16));
            };
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE);
        return new InputStreamReader(in, decoder);
    }
}
