package dev.cpt.data.prepare;

import java.io.Closeable;
import java.io.IOException;
import java.io.Reader;

/**
 * Lines of text with their line breaks kept, so that a document's text is exactly what the file
 * holds; a line longer than a limit comes in parts. A byte-order mark at the start is dropped.
 */
final class LineReader implements Closeable {
    private final Reader in;
    private final char[] buf = new char[1 << 16];
    private int pos;
    private int lim;
    private boolean started;
    private boolean atLineStart = true;
    private boolean wholeLine;
    private long line;

    LineReader(Reader in) {
        this.in = in;
    }

    private boolean fill() throws IOException {
        int n;
        do {
            n = in.read(buf, 0, buf.length);
        } while (n == 0);
        if (n < 0) return false;
        pos = 0;
        lim = n;
        if (!started) {
            started = true;
            if (buf[0] == '\uFEFF') pos = 1;
            if (pos == lim) return fill();
        }
        return true;
    }

    /**
     * Appends the rest of the current line, with its {@code '\n'} if it has one, to {@code dst},
     * but no more than about {@code max} characters (a surrogate pair is not cut).
     *
     * @return the number of characters appended, or -1 at the end of the input
     */
    int read(StringBuilder dst, int max) throws IOException {
        if (pos == lim && !fill()) return -1;
        boolean fromStart = atLineStart;
        if (atLineStart) {
            line++;
            atLineStart = false;
        }
        int n = 0;
        while (true) {
            if (pos == lim && !fill()) { // last line, without a line break
                wholeLine = fromStart;
                return n;
            }
            int end = (int) Math.min(lim, (long) pos + (max - n));
            int i = pos;
            while (i < end && buf[i] != '\n') i++;
            if (i < end) {
                dst.append(buf, pos, i + 1 - pos);
                n += i + 1 - pos;
                pos = i + 1;
                atLineStart = true;
                wholeLine = fromStart;
                return n;
            }
            dst.append(buf, pos, end - pos);
            n += end - pos;
            pos = end;
            if (n >= max) {
                if (Character.isHighSurrogate(dst.charAt(dst.length() - 1)) && (pos < lim || fill())) {
                    dst.append(buf[pos++]);
                    n++;
                }
                wholeLine = false;
                return n;
            }
        }
    }

    /** The 1-based number of the line the last {@link #read} was in. */
    long line() {
        return line;
    }

    /** Whether the last {@link #read} returned a whole line, from its start to its line break or the end. */
    boolean wholeLine() {
        return wholeLine;
    }

    /** Whether the last {@link #read} ended at a line break (or the end of the input). */
    boolean atLineStart() {
        return atLineStart;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
