package dev.cpt.data.shard;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** File access shared by the readers: opening, small header reads and mapping, with messages naming the file. */
final class ShardFiles {
    private ShardFiles() {}

    /** A file opened for reading; a missing or unreadable one becomes a {@link ShardFormatException}. */
    static FileChannel openRead(Path file, String whatItIs) {
        try {
            if (Files.isDirectory(file)) throw new ShardFormatException(file, "is a directory, not " + whatItIs);
            return FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new ShardFormatException(file, "no such file (" + whatItIs + ")");
        } catch (AccessDeniedException e) {
            throw new ShardFormatException(file, "cannot read " + whatItIs + ": permission denied");
        } catch (IOException e) {
            throw new ShardFormatException(file, "cannot read " + whatItIs + ": " + e);
        }
    }

    static long size(FileChannel ch, Path file) {
        try {
            return ch.size();
        } catch (IOException e) {
            throw new ShardFormatException(file, "cannot read: " + e);
        }
    }

    /** Reads exactly {@code count} bytes from {@code position} into a little-endian buffer (headers only). */
    static ByteBuffer read(FileChannel ch, Path file, long position, int count) {
        ByteBuffer b = ByteBuffer.allocate(count).order(ByteOrder.LITTLE_ENDIAN);
        try {
            while (b.hasRemaining()) {
                if (ch.read(b, position + b.position()) < 0) {
                    throw new ShardFormatException(file, "truncated: ended after " + (position + b.position()) + " bytes");
                }
            }
        } catch (IOException e) {
            throw new ShardFormatException(file, "cannot read: " + e);
        }
        return b.flip();
    }

    /** Maps {@code byteCount} bytes from {@code offset} read-only; unmapped when no longer reachable. */
    static MemorySegment map(FileChannel ch, Path file, long offset, long byteCount) {
        try {
            return ch.map(FileChannel.MapMode.READ_ONLY, offset, byteCount, Arena.ofAuto());
        } catch (IOException e) {
            throw new ShardFormatException(file, "cannot map " + byteCount + " bytes from offset " + offset + ": " + e);
        }
    }

    static void close(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // read-only: nothing was written that closing could lose
        }
    }

    /** "truncated" or "too long", for a file of {@code actual} bytes that should have {@code expected}. */
    static String sizeProblem(long expected, long actual) {
        return (actual < expected ? "truncated" : "too long") + ": expected " + expected + " bytes, found " + actual;
    }

    static TokenizerInfo tokenizerOr(TokenizerInfo hintOrNull, TokenizerInfo assumed) {
        return hintOrNull != null ? hintOrNull : assumed;
    }

    static TokenShard.TokenizerOrigin origin(TokenizerInfo hintOrNull) {
        return hintOrNull != null ? TokenShard.TokenizerOrigin.GIVEN : TokenShard.TokenizerOrigin.ASSUMED;
    }

    /** The out-of-vocabulary message, with where the tokenizer came from when the files do not record it. */
    static String outOfVocabulary(TokenShard shard, long index, long byteOffset, String where) {
        TokenizerInfo t = shard.tokenizer();
        String msg = "token " + Integer.toUnsignedString(shard.token(index)) + " at index " + index + " (byte offset "
                + byteOffset + where + ") is not below the vocabulary size " + t.vocabSize();
        if (shard.tokenizerOrigin() != TokenShard.TokenizerOrigin.RECORDED) {
            msg += " of tokenizer " + shard.describeTokenizer() + "; give the tokenizer that made the file";
        }
        return msg;
    }
}
