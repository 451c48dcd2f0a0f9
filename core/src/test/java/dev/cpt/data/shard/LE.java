package dev.cpt.data.shard;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Little-endian bytes built by hand in tests, independently of the writers under test. */
final class LE {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    LE bytes(byte... b) {
        out.writeBytes(b);
        return this;
    }

    LE ascii(String s) {
        return bytes(s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    }

    LE u8(int... v) {
        for (int x : v) out.write(x & 0xff);
        return this;
    }

    LE u16(int... v) {
        for (int x : v) {
            out.write(x & 0xff);
            out.write((x >>> 8) & 0xff);
        }
        return this;
    }

    LE i32(int... v) {
        for (int x : v) for (int i = 0; i < 4; i++) out.write((x >>> (8 * i)) & 0xff);
        return this;
    }

    LE i64(long... v) {
        for (long x : v) for (int i = 0; i < 8; i++) out.write((int) (x >>> (8 * i)) & 0xff);
        return this;
    }

    LE zeros(int n) {
        out.writeBytes(new byte[n]);
        return this;
    }

    int size() {
        return out.size();
    }

    byte[] toBytes() {
        return out.toByteArray();
    }

    Path writeTo(Path file) throws IOException {
        Files.write(file, out.toByteArray());
        return file;
    }

    /** The tokens of a shard, copied. */
    static int[] all(dev.cpt.data.TokenSource s) {
        int[] a = new int[Math.toIntExact(s.length())];
        s.read(0, a, 0, a.length);
        return a;
    }
}
