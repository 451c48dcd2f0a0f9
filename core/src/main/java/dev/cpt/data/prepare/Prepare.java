package dev.cpt.data.prepare;

import dev.cpt.data.SplitMix;
import dev.cpt.data.prepare.PrepareReport.DomainStats;
import dev.cpt.data.prepare.PrepareReport.SplitStats;
import dev.cpt.data.shard.CptTokensFormat;
import dev.cpt.data.shard.ShardWriter;
import dev.cpt.data.shard.TokenizerInfo;
import dev.cpt.data.tokenize.Tokenizer;
import dev.cpt.data.tokenize.Tokenizers;
import dev.cpt.record.AtomicFiles;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.zip.ZipException;

/**
 * Turns text into token shards: reads the inputs in order, tokenizes on {@code jobs} threads, and
 * writes the documents in input order to {@code OUT/train.bin} and {@code OUT/val.bin} (cpt's own
 * format, with sidecars), or {@code OUT/DOMAIN/train.bin} and {@code val.bin} per domain, plus
 * {@code OUT/prepare.json}.
 *
 * <p>Three stages run at once: this thread reads the inputs and cuts them into batches of
 * documents, {@code jobs} threads tokenize batches, and one writer thread writes the tokenized
 * batches in input order.
 *
 * <p>Documents: a JSON Lines line is one document (its {@code text} field); a text file is one
 * document, or several separated by lines matching {@link PrepareOptions#documentSeparator}. Which
 * documents go to validation depends only on the seed and the document's position among the
 * documents written (a hash of both), so the output is the same byte for byte whatever the number
 * of threads. Empty documents are skipped.
 *
 * <p>Inputs are streamed: a JSON Lines file line by line, a long text document in pieces of about
 * a million characters cut at line breaks the tokenizer is known not to merge across (see
 * {@link Tokenizer#cutsCleanlyAtLineBreaks()}); a piece never exceeds about 16 million characters,
 * cut at any line break or, for a longer line, inside it. Such a hard cut may change the tokens
 * around it slightly compared with tokenizing the whole document.
 *
 * <p>Everything is written into a temporary sibling {@code OUT.tmp-*} that is renamed to {@code OUT}
 * once complete; on any failure it is removed, so {@code OUT} is either absent (or its old
 * content, when overwriting) or complete.
 */
public final class Prepare {
    static final int SOFT_PIECE_CHARS = 1 << 20;
    static final int HARD_PIECE_CHARS = 16 << 20;
    static final int BATCH_CHARS = 1 << 20;
    static final int BATCH_ITEMS = 4096;
    static final int MAX_WARNED_BAD_LINES = 10;

    private Prepare() {}

    /**
     * Runs the preparation.
     *
     * @throws PrepareException for bad input (naming the file and line) or an existing output directory
     * @throws IllegalArgumentException for an unknown tokenizer
     * @throws IOException when the output cannot be written
     */
    public static PrepareReport run(PrepareOptions opts, ProgressListener listener) throws IOException {
        long t0 = System.nanoTime();
        if (listener == null) listener = ProgressListener.NONE;
        Path out = opts.out().toAbsolutePath().normalize();
        if (Files.exists(out, LinkOption.NOFOLLOW_LINKS) && !opts.overwrite()) {
            throw new PrepareException(out, "already exists; name a new output directory, or overwrite it");
        }
        InputFile.Listing listing = InputFile.list(opts.inputs());
        if (opts.splitByDomain()) {
            for (InputFile f : listing.files()) {
                if (f.format() == InputFile.Format.TEXT) {
                    throw new PrepareException(f.path(), "is a text file, but splitting by domain needs JSON Lines records with a \""
                            + opts.domainField() + "\" field");
                }
            }
        }
        Tokenizer tokenizer = Tokenizers.open(opts.tokenizer());
        try {
            Path parent = out.getParent();
            Files.createDirectories(parent);
            Path tmp = Files.createTempDirectory(parent, out.getFileName() + ".tmp-");
            boolean published = false;
            try {
                PrepareReport report;
                try (Run run = new Run(opts, tokenizer, listing, tmp, listener)) {
                    report = run.execute(out, t0);
                }
                publish(tmp, out, opts.overwrite());
                published = true;
                return report;
            } finally {
                if (!published) deleteRecursively(tmp);
            }
        } finally {
            if (tokenizer instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // nothing of ours depends on it
                }
            }
        }
    }

    private static void publish(Path tmp, Path out, boolean overwrite) throws IOException {
        if (Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
            if (!overwrite) throw new PrepareException(out, "already exists; name a new output directory, or overwrite it");
            Path old = Files.createTempDirectory(out.getParent(), out.getFileName() + ".old-");
            Files.delete(old);
            Files.move(out, old);
            try {
                move(tmp, out);
            } catch (IOException | RuntimeException e) {
                Files.move(old, out);
                throw e;
            }
            deleteRecursively(old);
        } else {
            move(tmp, out);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) return;
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) throw e;
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    // ---------------------------------------------------------------- one run

    /** A JSON Lines line, or a piece of a text document (first and last tell which). */
    private record Item(int file, long line, String text, boolean json, boolean first, boolean last) {}

    private record Batch(List<Item> items, long bytesDone) {}

    /** What a worker made of an item: tokens, or why the line is bad. */
    private record Tokenized(int[] tokens, String domain, long bytes, String error) {}

    private record Done(Batch batch, Tokenized[] results) {}

    private static final Future<Done> END = CompletableFuture.completedFuture(null);

    /** An output failure of the writer thread, carried past the input's error handling. */
    private static final class OutputFailure extends RuntimeException {
        OutputFailure(IOException cause) {
            super(cause);
        }
    }

    private static final class Run implements AutoCloseable {
        private final PrepareOptions opts;
        private final Tokenizer tokenizer;
        private final TokenizerInfo info;
        private final List<InputFile> files;
        private final List<String> skippedFiles;
        private final long totalBytes;
        private final Path tmp;
        private final ProgressListener listener;
        private final ExecutorService pool;
        /** Batches being tokenized, in input order, for the writer. */
        private final BlockingQueue<Future<Done>> queue;
        private final Thread writer;
        private volatile Throwable writerFailure;
        private final JsonlRecord jsonl;
        private final Pattern separator;
        private final boolean cleanCuts;
        private final long valKey;

        // reading
        private long bytesBefore;
        private InputFile.CountingStream current;
        private List<Item> batch = new ArrayList<>();
        private long batchChars;

        // writing (the writer thread; read by this one after joining it)
        private final Map<String, Sink> sinks = new LinkedHashMap<>();
        private final Map<String, String> directories = new HashMap<>();
        private long documentIndex;
        private long badLines;
        private long emptyDocuments;
        private final List<String> warnings = new ArrayList<>();
        private int[] pending = new int[1024];
        private int pendingLength;
        private long pendingBytes;
        private long lastProgress = -1;

        Run(PrepareOptions opts, Tokenizer tokenizer, InputFile.Listing listing, Path tmp, ProgressListener listener) {
            this.opts = opts;
            this.tokenizer = tokenizer;
            this.info = TokenizerInfo.of(tokenizer);
            this.files = listing.files();
            this.skippedFiles = listing.skipped();
            this.totalBytes = listing.totalBytes();
            this.tmp = tmp;
            this.listener = listener;
            AtomicInteger n = new AtomicInteger();
            this.pool = Executors.newFixedThreadPool(opts.jobs(), r -> {
                Thread t = new Thread(r, "cpt-prepare-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            this.queue = new ArrayBlockingQueue<>(2 * opts.jobs() + 2);
            this.writer = new Thread(this::writeLoop, "cpt-prepare-writer");
            this.writer.setDaemon(true);
            this.jsonl = new JsonlRecord(opts.textField(), opts.splitByDomain() ? opts.domainField() : null);
            this.separator = opts.documentSeparator() == null ? null : Pattern.compile(opts.documentSeparator());
            this.cleanCuts = tokenizer.cutsCleanlyAtLineBreaks();
            this.valKey = SplitMix.key(opts.seed(), "prepare:val");
        }

        PrepareReport execute(Path out, long t0) throws IOException {
            if (!opts.splitByDomain()) sink(null);
            writer.start();
            try {
                for (int i = 0; i < files.size(); i++) read(i);
                flushBatch();
                enqueue(END);
            } catch (OutputFailure e) {
                throw (IOException) e.getCause();
            }
            try {
                writer.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted");
            }
            if (writerFailure != null) rethrowWriterFailure();
            if (documentIndex == 0) {
                throw new PrepareException("no documents in " + opts.inputs() + " (" + files.size() + " files"
                        + (badLines > 0 ? ", " + badLines + " bad lines skipped" : "")
                        + (emptyDocuments > 0 ? ", " + emptyDocuments + " empty documents" : "") + ")");
            }
            Map<String, DomainStats> domains = opts.splitByDomain() ? new TreeMap<>() : null;
            SplitStats train = SplitStats.ZERO;
            SplitStats val = SplitStats.ZERO;
            for (Sink s : sinks.values()) {
                s.finish(opts.valFraction() > 0);
                train = train.plus(s.stats(false));
                val = val.plus(s.stats(true));
                if (opts.valFraction() > 0 && s.documents[1] == 0) {
                    warnings.add("no document went to validation" + (s.domain == null ? "" : " in domain " + s.domain) + " ("
                            + s.documents[0] + " documents, valFraction " + opts.valFraction() + ")");
                }
                if (domains != null) domains.put(s.domain, new DomainStats(s.directory, s.stats(false), s.stats(true)));
            }
            if (badLines > MAX_WARNED_BAD_LINES) warnings.add("... and " + (badLines - MAX_WARNED_BAD_LINES) + " more bad lines skipped");
            progress(totalBytes);
            double seconds = (System.nanoTime() - t0) / 1e9;
            long textBytes = train.bytes() + val.bytes();
            long tokens = train.tokens() + val.tokens();
            PrepareReport report = new PrepareReport(out.toString(), opts.inputs().stream().map(Path::toString).toList(),
                    files.size(), totalBytes, info, opts.valFraction(), opts.seed(), opts.jobs(), opts.documentSeparator(),
                    opts.splitByDomain(), train, val, domains, badLines, emptyDocuments, List.copyOf(skippedFiles),
                    List.copyOf(warnings), seconds, textBytes / 1e6 / seconds, tokens / seconds);
            AtomicFiles.writeJson(tmp.resolve("prepare.json"), report);
            return report;
        }

        // ------------------------------------------------------------ reading (this thread)

        private void read(int index) {
            InputFile f = files.get(index);
            InputFile.CountingStream[] counter = new InputFile.CountingStream[1];
            LineReader lr = null;
            try {
                lr = new LineReader(f.open(counter));
                current = counter[0];
                if (f.format() == InputFile.Format.JSONL) readJsonl(index, lr);
                else readText(index, lr);
            } catch (IOException e) {
                throw new PrepareException(f.path(), 0, describe(f, e) + (lr != null && lr.line() > 0 ? " (near line " + lr.line() + ")" : ""), e);
            } finally {
                if (lr != null) {
                    try {
                        lr.close();
                    } catch (IOException ignored) {
                        // read to the end already, or failing anyway
                    }
                } else if (counter[0] != null) {
                    try {
                        counter[0].close();
                    } catch (IOException ignored) {
                        // failing anyway
                    }
                }
            }
            bytesBefore += f.size();
            current = null;
        }

        private static String describe(InputFile f, IOException e) {
            String what = switch (f.compression()) {
                case GZIP -> "corrupt or truncated gzip data";
                case ZSTD -> "corrupt or truncated zstd data";
                case NONE -> "cannot read";
            };
            if (f.compression() != InputFile.Compression.NONE
                    && !(e instanceof ZipException || e instanceof EOFException || e.getClass().getName().contains("Zstd"))) {
                what = "cannot read";
            }
            return what + ": " + e.getMessage();
        }

        private void readJsonl(int file, LineReader lr) throws IOException {
            StringBuilder sb = new StringBuilder(4096);
            while (true) {
                sb.setLength(0);
                if (lr.read(sb, Integer.MAX_VALUE - 16) < 0) return;
                int end = sb.length();
                while (end > 0 && (sb.charAt(end - 1) == '\n' || sb.charAt(end - 1) == '\r')) end--;
                int start = 0;
                while (start < end && Character.isWhitespace(sb.charAt(start))) start++;
                if (start == end) continue;
                add(new Item(file, lr.line(), sb.substring(0, end), true, true, true), end);
            }
        }

        private void readText(int file, LineReader lr) throws IOException {
            StringBuilder piece = new StringBuilder();
            StringBuilder line = new StringBuilder();
            boolean started = false; // a piece of the current document went out already
            long pieceLine = 1;
            while (true) {
                line.setLength(0);
                if (lr.read(line, HARD_PIECE_CHARS) < 0) break;
                if (separator != null && lr.wholeLine() && separator.matcher(withoutLineBreak(line)).matches()) {
                    if (piece.length() > 0 || started) add(new Item(file, pieceLine, take(piece), false, !started, true), piece.length());
                    started = false;
                    pieceLine = lr.line() + 1;
                    continue;
                }
                if (piece.length() > 0 && (piece.length() + line.length() > HARD_PIECE_CHARS
                        || (piece.length() >= SOFT_PIECE_CHARS && cleanCuts && cleanCut(piece, line)))) {
                    int n = piece.length();
                    add(new Item(file, pieceLine, take(piece), false, !started, false), n);
                    started = true;
                    pieceLine = lr.line();
                }
                piece.append(line);
            }
            if (piece.length() > 0 || started) {
                int n = piece.length();
                add(new Item(file, pieceLine, take(piece), false, !started, true), n);
            }
        }

        private static String take(StringBuilder sb) {
            String s = sb.toString();
            sb.setLength(0);
            return s;
        }

        private static CharSequence withoutLineBreak(StringBuilder line) {
            int end = line.length();
            if (end > 0 && line.charAt(end - 1) == '\n') end--;
            if (end > 0 && line.charAt(end - 1) == '\r') end--;
            return line.subSequence(0, end);
        }

        /** The piece ends with a lone line break after a non-space, and the next line starts with a non-space. */
        private static boolean cleanCut(StringBuilder piece, StringBuilder next) {
            int n = piece.length();
            return n >= 2 && piece.charAt(n - 1) == '\n' && !space(piece.charAt(n - 2))
                    && !next.isEmpty() && !space(next.charAt(0));
        }

        private static boolean space(char c) {
            return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085' || c == '\u200B' || c == '\uFEFF';
        }

        private void add(Item item, long chars) {
            batch.add(item);
            batchChars += chars;
            if (batchChars >= BATCH_CHARS || batch.size() >= BATCH_ITEMS) flushBatch();
        }

        private void flushBatch() {
            if (batch.isEmpty()) return;
            long done = bytesBefore + (current == null ? 0 : current.count);
            Batch b = new Batch(batch, Math.min(done, totalBytes));
            batch = new ArrayList<>();
            batchChars = 0;
            enqueue(pool.submit(() -> tokenize(b)));
        }

        /** Hands a batch to the writer, waiting while it is behind; stops at once if it failed. */
        private void enqueue(Future<Done> f) {
            try {
                while (true) {
                    if (writerFailure != null) rethrowWriterFailure();
                    if (queue.offer(f, 50, TimeUnit.MILLISECONDS)) return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new OutputFailure(new InterruptedIOException("interrupted"));
            } catch (IOException e) {
                throw new OutputFailure(e);
            }
        }

        private void rethrowWriterFailure() throws IOException {
            Throwable t = writerFailure;
            if (t instanceof ExecutionException e && e.getCause() != null) t = e.getCause();
            if (t instanceof IOException e) throw e;
            if (t instanceof RuntimeException e) throw e;
            if (t instanceof Error e) throw e;
            throw new IllegalStateException(t);
        }

        // ------------------------------------------------------------ tokenizing (workers)

        private Done tokenize(Batch b) {
            Tokenized[] results = new Tokenized[b.items().size()];
            for (int i = 0; i < results.length; i++) {
                Item it = b.items().get(i);
                String text = it.text();
                String domain = null;
                if (it.json()) {
                    try {
                        JsonlRecord.Fields f = jsonl.parse(text);
                        text = f.text();
                        domain = f.domain();
                    } catch (JsonlRecord.BadLine e) {
                        results[i] = new Tokenized(null, null, 0, e.getMessage());
                        continue;
                    }
                }
                results[i] = new Tokenized(tokenizer.encode(text), domain, utf8Length(text), null);
            }
            return new Done(b, results);
        }

        static long utf8Length(String s) {
            long n = 0;
            for (int i = 0, len = s.length(); i < len; i++) {
                char c = s.charAt(i);
                if (c < 0x80) n++;
                else if (c < 0x800) n += 2;
                else if (Character.isHighSurrogate(c) && i + 1 < len && Character.isLowSurrogate(s.charAt(i + 1))) {
                    n += 4;
                    i++;
                } else n += 3;
            }
            return n;
        }

        // ------------------------------------------------------------ writing (this thread, in input order)

        private void writeLoop() {
            try {
                while (true) {
                    Future<Done> f = queue.take();
                    if (f == END) return;
                    write(f.get());
                }
            } catch (InterruptedException e) {
                // stopped: reading failed
            } catch (Throwable t) {
                writerFailure = t;
            }
        }

        private void write(Done done) throws IOException {
            List<Item> items = done.batch().items();
            for (int i = 0; i < items.size(); i++) {
                Item it = items.get(i);
                Tokenized r = done.results()[i];
                if (r.error() != null) {
                    Path file = files.get(it.file()).path();
                    if (!opts.skipBadLines()) {
                        throw new PrepareException(file, it.line(), r.error() + " (skipBadLines skips such lines)");
                    }
                    if (++badLines <= MAX_WARNED_BAD_LINES) warnings.add("skipped " + file + ":" + it.line() + ": " + r.error());
                    continue;
                }
                if (it.first() && it.last()) {
                    emit(r.tokens(), r.domain(), r.bytes());
                    continue;
                }
                if (it.first()) {
                    pendingLength = 0;
                    pendingBytes = 0;
                }
                if (pendingLength + r.tokens().length > pending.length) {
                    pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + r.tokens().length));
                }
                System.arraycopy(r.tokens(), 0, pending, pendingLength, r.tokens().length);
                pendingLength += r.tokens().length;
                pendingBytes += r.bytes();
                if (it.last()) {
                    emit(Arrays.copyOf(pending, pendingLength), null, pendingBytes);
                    if (pending.length > (1 << 22)) pending = new int[1024];
                }
            }
            progress(done.batch().bytesDone());
        }

        private void emit(int[] tokens, String domain, long bytes) throws IOException {
            if (tokens.length == 0) {
                emptyDocuments++;
                return;
            }
            boolean val = isVal(documentIndex++);
            sink(domain).write(val, tokens, bytes);
        }

        private boolean isVal(long index) {
            if (opts.valFraction() <= 0) return false;
            long h = SplitMix.mix(valKey ^ SplitMix.mix(index));
            return (h >>> 11) * 0x1.0p-53 < opts.valFraction();
        }

        private void progress(long done) {
            if (done != lastProgress) {
                lastProgress = done;
                listener.progress(done, totalBytes);
            }
        }

        private Sink sink(String domain) {
            String key = domain == null ? "" : domain;
            Sink s = sinks.get(key);
            if (s != null) return s;
            String dirName = null;
            Path dir = tmp;
            if (domain != null) {
                String base = directoryName(domain);
                dirName = base;
                for (int k = 2; directories.containsKey(dirName.toLowerCase(Locale.ROOT)); k++) dirName = base + "_" + k;
                directories.put(dirName.toLowerCase(Locale.ROOT), domain);
                dir = tmp.resolve(dirName);
            }
            s = new Sink(domain, dirName, dir, info);
            sinks.put(key, s);
            return s;
        }

        static String directoryName(String domain) {
            String s = domain.replaceAll("[^A-Za-z0-9._-]", "_");
            if (s.length() > 100) s = s.substring(0, 100);
            if (s.isEmpty() || s.startsWith(".") || s.equalsIgnoreCase("prepare.json")) s = "_" + s;
            return s;
        }

        @Override
        public void close() {
            pool.shutdownNow();
            if (writer.isAlive()) {
                writer.interrupt();
                boolean interrupted = false;
                while (true) {
                    try {
                        writer.join();
                        break;
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                if (interrupted) Thread.currentThread().interrupt();
            }
            for (Sink s : sinks.values()) s.closeQuietly();
        }
    }

    /** The train and val shards of one domain (or of everything). */
    private static final class Sink {
        final String domain;
        final String directory;
        final Path dir;
        final TokenizerInfo info;
        final ShardWriter[] writers = new ShardWriter[2];
        final long[] documents = new long[2];
        final long[] tokens = new long[2];
        final long[] bytes = new long[2];
        boolean finished;

        Sink(String domain, String directory, Path dir, TokenizerInfo info) {
            this.domain = domain;
            this.directory = directory;
            this.dir = dir;
            this.info = info;
        }

        ShardWriter writer(boolean val) throws IOException {
            int i = val ? 1 : 0;
            if (writers[i] == null) {
                Files.createDirectories(dir);
                writers[i] = CptTokensFormat.writer(dir.resolve(val ? "val.bin" : "train.bin"), info, domain);
            }
            return writers[i];
        }

        void write(boolean val, int[] t, long textBytes) throws IOException {
            writer(val).writeDocument(t);
            int i = val ? 1 : 0;
            documents[i]++;
            bytes[i] += textBytes;
        }

        void finish(boolean withVal) throws IOException {
            writer(false);
            if (withVal) writer(true);
            for (int i = 0; i < 2; i++) {
                if (writers[i] != null) {
                    tokens[i] = writers[i].tokens();
                    writers[i].close();
                }
            }
            finished = true;
        }

        SplitStats stats(boolean val) {
            int i = val ? 1 : 0;
            return new SplitStats(documents[i], tokens[i], bytes[i]);
        }

        void closeQuietly() {
            if (finished) return;
            for (ShardWriter w : writers) {
                if (w == null) continue;
                try {
                    w.close();
                } catch (IOException | UncheckedIOException ignored) {
                    // the temporary directory is removed anyway
                }
            }
            finished = true;
        }
    }
}
