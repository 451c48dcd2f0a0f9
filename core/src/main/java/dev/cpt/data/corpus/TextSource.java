package dev.cpt.data.corpus;

import java.io.IOException;
import java.util.function.Consumer;

/** A corpus of plain-text documents from files a Debian package installs. */
interface TextSource {

    /** Short description for the data card: what and from which package. */
    String describe();

    /** Whether the package's files are there. */
    boolean available();

    /** Bytes of text it holds, estimated without reading it all (gzip trailers, file sizes). */
    long estimatedBytes() throws IOException;

    /**
     * Hands the documents whose ordinal {@code keep} accepts to {@code sink}, in a fixed order;
     * a source skips the work of reading a document it can tell will not be kept.
     */
    void forEachDocument(java.util.function.LongPredicate keep, Consumer<String> sink) throws IOException;
}
