package dev.cpt.data.corpus;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/** Reading the packaged files: gzip (and dictzip, which is gzip) transparently, UTF-8 with replacement. */
final class Texts {
    private Texts() {}

    static String read(Path file) throws IOException {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            InputStream s = file.toString().endsWith(".gz") || file.toString().endsWith(".dz") ? new GZIPInputStream(in, 1 << 16) : in;
            bytes = s.readAllBytes();
        }
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
        return utf8.decode(ByteBuffer.wrap(bytes)).toString();
    }

    /** Uncompressed size: a gzip (or dictzip) file's trailer holds it modulo 2^32; other files are as large as they are. */
    static long textBytes(Path file) throws IOException {
        String name = file.toString();
        if (!(name.endsWith(".gz") || name.endsWith(".dz"))) return Files.size(file);
        try (var ch = java.nio.channels.FileChannel.open(file)) {
            if (ch.size() < 4) return 0;
            ByteBuffer b = ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            ch.read(b, ch.size() - 4);
            return Integer.toUnsignedLong(b.getInt(0));
        }
    }

    /**
     * The files Debian package {@code pkg} installed under {@code root} ({@code /}, or a directory
     * packages were unpacked into, which {@link DebianPackages} gives dpkg-style file lists too),
     * from its file list {@code root/var/lib/dpkg/info/PKG.list}, that {@code accept} takes, sorted;
     * empty when the package is not there.
     */
    static List<Path> packageFiles(Path root, String pkg, java.util.function.Predicate<Path> accept) throws IOException {
        for (String name : new String[] {pkg + ".list", pkg + ":all.list", pkg + ":amd64.list"}) {
            Path list = root.resolve(DebianPackages.FILE_LISTS).resolve(name);
            if (Files.isRegularFile(list)) {
                return Files.readAllLines(list).stream().filter(l -> l.startsWith("/"))
                        .map(l -> root.resolve(l.substring(1)))
                        .filter(p -> Files.isRegularFile(p)).filter(accept).sorted().toList();
            }
        }
        return List.of();
    }

    /** For a source's description: where its package was unpacked, or nothing when it is installed. */
    static String under(Path root) {
        return root.getParent() == null ? "" : ", unpacked in " + root;
    }

    /** Regular files under {@code dir} matching {@code accept}, sorted by path for a fixed order. */
    static List<Path> files(Path dir, java.util.function.Predicate<Path> accept) throws IOException {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).filter(accept).sorted().toList();
        }
    }
}
