package dev.cpt.data.corpus;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * Fortune cookie files ({@code fortunes}, {@code fortunes-de}): cookies separated by lines holding
 * only {@code %}; each cookie is a document. Index files ({@code .dat}) and {@code .u8} links are skipped.
 */
final class FortuneFiles implements TextSource {
    private final Path root;
    private final String pkg;
    private final int part;
    private final int parts;

    /** The cookie files of {@code pkg} under {@code root} (from its dpkg file list) whose index is {@code part} modulo {@code parts}. */
    FortuneFiles(Path root, String pkg, int part, int parts) {
        this.root = root;
        this.pkg = pkg;
        this.part = part;
        this.parts = parts;
    }

    @Override
    public String describe() {
        return "fortune cookies of Debian package " + pkg + (parts > 1 ? " (files " + part + " mod " + parts + ")" : "")
                + Texts.under(root);
    }

    @Override
    public boolean available() {
        try {
            return !cookieFiles().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    private List<Path> cookieFiles() throws IOException {
        List<Path> all = Texts.packageFiles(root, pkg, p -> p.startsWith(root.resolve("usr/share/games/fortunes"))
                && !p.getFileName().toString().contains(".") && Files.isRegularFile(p) && !Files.isSymbolicLink(p));
        List<Path> mine = new java.util.ArrayList<>();
        for (int i = 0; i < all.size(); i++) if (i % parts == part) mine.add(all.get(i));
        return mine;
    }

    @Override
    public long estimatedBytes() throws IOException {
        long n = 0;
        for (Path f : cookieFiles()) n += Texts.textBytes(f);
        return n;
    }

    @Override
    public void forEachDocument(java.util.function.LongPredicate keep, Consumer<String> sink) throws IOException {
        long[] ordinal = {0};
        for (Path f : cookieFiles()) {
            StringBuilder cookie = new StringBuilder();
            for (String line : Texts.read(f).split("\n", -1)) {
                if (line.equals("%")) {
                    emit(cookie, keep, ordinal, sink);
                } else {
                    cookie.append(line).append('\n');
                }
            }
            emit(cookie, keep, ordinal, sink);
        }
    }

    private static void emit(StringBuilder cookie, java.util.function.LongPredicate keep, long[] ordinal, Consumer<String> sink) {
        String text = cookie.toString().strip();
        if (!text.isEmpty() && keep.test(ordinal[0]++)) sink.accept(text + "\n");
        cookie.setLength(0);
    }
}
