package dev.cpt.data.corpus;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * The GNU Collaborative International Dictionary of English ({@code dict-gcide}), Webster's 1913
 * and more: each entry (a blank-line-separated block of the dictd database) is a document.
 */
final class GcideDictionary implements TextSource {
    private final Path dict;

    GcideDictionary(Path dict) {
        this.dict = dict;
    }

    @Override
    public String describe() {
        return "dictionary entries of " + dict + " (Debian package dict-gcide)";
    }

    @Override
    public boolean available() {
        return Files.isRegularFile(dict);
    }

    @Override
    public long estimatedBytes() throws IOException {
        return Texts.textBytes(dict);
    }

    @Override
    public void forEachDocument(java.util.function.LongPredicate keep, Consumer<String> sink) throws IOException {
        StringBuilder entry = new StringBuilder();
        long ordinal = 0;
        for (String line : Texts.read(dict).split("\n", -1)) {
            if (line.isBlank()) {
                if (emit(entry, keep, ordinal, sink)) ordinal++;
            } else {
                entry.append(line.strip()).append('\n');
            }
        }
        emit(entry, keep, ordinal, sink);
    }

    private static boolean emit(StringBuilder entry, java.util.function.LongPredicate keep, long ordinal, Consumer<String> sink) {
        // The database opens with dictd's own header entries ("00-database-..."); they are not English prose.
        boolean isEntry = !entry.isEmpty() && !entry.toString().startsWith("00-database");
        if (isEntry && keep.test(ordinal)) sink.accept(entry.toString());
        entry.setLength(0);
        return isEntry;
    }
}
