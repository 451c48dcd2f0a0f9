package dev.cpt.data.prepare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.luben.zstd.ZstdOutputStream;
import dev.cpt.data.shard.CptTokensFormat;
import dev.cpt.data.shard.TokenShard;
import dev.cpt.data.tokenize.Tokenizer;
import dev.cpt.data.tokenize.Tokenizers;
import dev.cpt.record.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrepareTest {
    @TempDir
    Path tmp;

    // ---------------------------------------------------------------- helpers

    private PrepareOptions.Builder opts(Path... inputs) {
        return PrepareOptions.builder().inputs(List.of(inputs)).out(tmp.resolve("out")).valFraction(0).jobs(2);
    }

    /** The documents of a shard, decoded. */
    static List<String> docs(Path bin, Tokenizer t) {
        TokenShard s = CptTokensFormat.open(bin);
        int[] all = new int[(int) s.length()];
        s.read(0, all, 0, all.length);
        List<String> out = new ArrayList<>();
        int start = -1;
        for (int i = 0; i <= all.length; i++) {
            if (i == all.length || all[i] == t.endOfText()) {
                if (start >= 0) out.add(t.decode(all, start, i));
                start = i + 1;
            }
        }
        if (all.length > 0) assertThat(all[0]).isEqualTo(t.endOfText());
        return out;
    }

    static String json(String text) throws IOException {
        return Json.MAPPER.writeValueAsString(Map.of("text", text));
    }

    static String slim(String text, String set) throws IOException {
        return Json.MAPPER.writeValueAsString(Map.of("text", text, "meta", Map.of("redpajama_set_name", set)));
    }

    private Path write(String name, String content) throws IOException {
        Path p = tmp.resolve(name);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
        return p;
    }

    private Path gzip(String name, String content) throws IOException {
        Path p = tmp.resolve(name);
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(p))) {
            o.write(content.getBytes(StandardCharsets.UTF_8));
        }
        return p;
    }

    private Path zstd(String name, String content) throws IOException {
        Path p = tmp.resolve(name);
        try (OutputStream o = new ZstdOutputStream(Files.newOutputStream(p))) {
            o.write(content.getBytes(StandardCharsets.UTF_8));
        }
        return p;
    }

    private List<String> leftovers() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".tmp-") || n.contains(".old-")).toList();
        }
    }

    // ---------------------------------------------------------------- input kinds

    @Test
    void everyInputKindInOrder() throws IOException {
        Path txt = write("a.txt", "Plain text, one document.\nSecond line ünï.\n");
        write("dir/b/2.txt", "dir b2");
        write("dir/a.txt", "dir a");
        write("dir/b/1.txt", "dir b1");
        write("dir/.hidden", "never read");
        Files.write(tmp.resolve("dir/index.dat"), new byte[] {0, 0, 0, 2, 'x'});
        Path jsonl = write("c.jsonl", json("j1") + "\n\n" + json("j2\nwith a line break") + "\r\n");
        Path gz = gzip("d.jsonl.gz", json("g1") + "\n" + json("g2") + "\n");
        Path zst = zstd("e.jsonl.zst", json("z1") + "\n" + json("zstd ✓"));
        Path txtGz = gzip("f.txt.gz", "compressed text");

        List<long[]> progress = new ArrayList<>();
        PrepareReport r = Prepare.run(opts(txt, tmp.resolve("dir"), jsonl, gz, zst, txtGz).build(),
                (done, total) -> progress.add(new long[] {done, total}));

        Tokenizer t = Tokenizers.open("bytes");
        assertThat(docs(tmp.resolve("out/train.bin"), t)).containsExactly(
                "Plain text, one document.\nSecond line ünï.\n", "dir a", "dir b1", "dir b2",
                "j1", "j2\nwith a line break", "g1", "g2", "z1", "zstd ✓", "compressed text");
        assertThat(r.files()).isEqualTo(8);
        assertThat(r.skippedFiles()).containsExactly(tmp.resolve("dir/index.dat") + " (binary)");
        assertThat(r.train().documents()).isEqualTo(11);
        assertThat(r.val()).isEqualTo(PrepareReport.SplitStats.ZERO);
        assertThat(Files.exists(tmp.resolve("out/val.bin"))).isFalse(); // valFraction 0: no val shard
        long textBytes = 0;
        for (String d : docs(tmp.resolve("out/train.bin"), t)) textBytes += d.getBytes(StandardCharsets.UTF_8).length;
        assertThat(r.train().bytes()).isEqualTo(textBytes);
        assertThat(r.train().tokens()).isEqualTo(textBytes + 11);
        assertThat(CptTokensFormat.open(tmp.resolve("out/train.bin")).length()).isEqualTo(r.train().tokens());

        long total = 0;
        for (Path p : List.of(txt, tmp.resolve("dir/a.txt"), tmp.resolve("dir/b/1.txt"), tmp.resolve("dir/b/2.txt"), jsonl, gz, zst, txtGz)) {
            total += Files.size(p);
        }
        assertThat(r.inputBytes()).isEqualTo(total);
        assertThat(progress).isNotEmpty();
        assertThat(progress.getLast()).containsExactly(total, total);
        for (int i = 1; i < progress.size(); i++) assertThat(progress.get(i)[0]).isGreaterThanOrEqualTo(progress.get(i - 1)[0]);

        PrepareReport onDisk = Json.MAPPER.readValue(tmp.resolve("out/prepare.json").toFile(), PrepareReport.class);
        assertThat(onDisk.train()).isEqualTo(r.train());
        assertThat(onDisk.tokenizer().id()).isEqualTo("bytes");
        assertThat(leftovers()).isEmpty();
    }

    @Test
    void documentSeparatorSplitsTextFilesOnWholeLines() throws IOException {
        Path fortunes = write("fortunes", "First fortune.\n%\nSecond\n  fortune 100%\n%\r\n%\nThird.\n%\n");
        PrepareReport r = Prepare.run(opts(fortunes).documentSeparator("%").build(), ProgressListener.NONE);
        assertThat(docs(tmp.resolve("out/train.bin"), Tokenizers.open("bytes")))
                .containsExactly("First fortune.\n", "Second\n  fortune 100%\n", "Third.\n");
        assertThat(r.train().documents()).isEqualTo(3);
        assertThat(r.emptyDocumentsSkipped()).isZero();
    }

    @Test
    void longDocumentsAreTokenizedInPiecesWithTheSameTokensAsWhole() throws IOException {
        StringBuilder sb = new StringBuilder();
        String[] words = {"the", "cat", "sat", "on", "a", "mat", "Über", "naïve", "'s", "42", "—", "日本"};
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(7);
        while (sb.length() < 3 * Prepare.SOFT_PIECE_CHARS) {
            int n = 1 + rnd.nextInt(15);
            for (int i = 0; i < n; i++) sb.append(i == 0 ? "" : " ").append(words[rnd.nextInt(words.length)]);
            sb.append(switch (rnd.nextInt(6)) {
                case 0 -> "\n\n";
                case 1 -> " \n";
                default -> ".\n";
            });
        }
        String text = sb.toString();
        Path big = write("big.txt", text);
        Path small = write("small.txt", "after");
        Tokenizer gpt2 = Tokenizers.open("gpt2");
        PrepareReport r = Prepare.run(opts(big, small).tokenizer("gpt2").jobs(3).build(), ProgressListener.NONE);
        TokenShard s = CptTokensFormat.open(tmp.resolve("out/train.bin"));
        int[] all = new int[(int) s.length()];
        s.read(0, all, 0, all.length);
        int[] whole = gpt2.encode(text);
        int[] after = gpt2.encode("after");
        assertThat(all.length).isEqualTo(whole.length + after.length + 2);
        assertThat(Arrays.copyOfRange(all, 1, 1 + whole.length)).isEqualTo(whole);
        assertThat(r.train().documents()).isEqualTo(2);
        assertThat(r.train().bytes()).isEqualTo(text.getBytes(StandardCharsets.UTF_8).length + 5L);
    }

    @Test
    void aTextFileWithoutLineBreaksIsStillOneDocument() throws IOException {
        String text = "x".repeat(Prepare.HARD_PIECE_CHARS + 123) + "é";
        Path f = write("one-line.txt", text);
        Prepare.run(opts(f).build(), ProgressListener.NONE);
        TokenShard s = CptTokensFormat.open(tmp.resolve("out/train.bin"));
        assertThat(s.length()).isEqualTo(1 + text.length() + 1L); // é is 2 bytes
        assertThat(s.token(s.length() - 1)).isEqualTo(0xA9);
    }

    // ---------------------------------------------------------------- domains

    @Test
    void splitByDomainWritesAShardPairPerDomain() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 300; i++) {
            sb.append(slim("doc " + i, i % 3 == 0 ? "RedPajamaC4" : i % 3 == 1 ? "RedPajamaGithub" : "Red Pajama/Book?")).append('\n');
        }
        Path in = zstd("chunk_0.jsonl.zst", sb.toString());
        PrepareReport r = Prepare.run(opts(in).splitByDomain(true).valFraction(0.2).seed(3).build(), ProgressListener.NONE);
        assertThat(r.domains()).containsOnlyKeys("RedPajamaC4", "RedPajamaGithub", "Red Pajama/Book?");
        assertThat(r.domains().get("Red Pajama/Book?").directory()).isEqualTo("Red_Pajama_Book_");
        Tokenizer t = Tokenizers.open("bytes");
        long total = 0;
        for (var e : r.domains().entrySet()) {
            Path dir = tmp.resolve("out").resolve(e.getValue().directory());
            List<String> train = docs(dir.resolve("train.bin"), t);
            List<String> val = docs(dir.resolve("val.bin"), t);
            assertThat(train).hasSize((int) e.getValue().train().documents());
            assertThat(val).hasSize((int) e.getValue().val().documents()).isNotEmpty();
            assertThat(train.size() + val.size()).isEqualTo(100);
            var sidecar = Json.MAPPER.readValue(dir.resolve("train.json").toFile(), CptTokensFormat.Sidecar.class);
            assertThat(sidecar.domain()).isEqualTo(e.getKey());
            total += train.size() + val.size();
            // every document of the domain, each in one split, in input order within the split
            int k = e.getKey().equals("RedPajamaC4") ? 0 : e.getKey().equals("RedPajamaGithub") ? 1 : 2;
            List<String> expected = new ArrayList<>();
            for (int i = k; i < 300; i += 3) expected.add("doc " + i);
            assertThat(interleavesInOrder(expected, train, val)).isTrue();
        }
        assertThat(total).isEqualTo(300);
        assertThat(r.train().documents() + r.val().documents()).isEqualTo(300);
        assertThat(Files.exists(tmp.resolve("out/train.bin"))).isFalse();
    }

    private static boolean interleavesInOrder(List<String> all, List<String> a, List<String> b) {
        int i = 0, j = 0;
        for (String s : all) {
            if (i < a.size() && a.get(i).equals(s)) i++;
            else if (j < b.size() && b.get(j).equals(s)) j++;
            else return false;
        }
        return i == a.size() && j == b.size();
    }

    @Test
    void splitByDomainNeedsTheFieldAndJsonLines() throws IOException {
        Path in = write("x.jsonl", slim("a", "A") + "\n" + json("no domain") + "\n");
        assertThatThrownBy(() -> Prepare.run(opts(in).splitByDomain(true).build(), ProgressListener.NONE))
                .isInstanceOf(PrepareException.class)
                .hasMessageStartingWith(in + ":2: no \"meta.redpajama_set_name\" field");
        Path txt = write("t.txt", "text");
        assertThatThrownBy(() -> Prepare.run(opts(in, txt).splitByDomain(true).build(), ProgressListener.NONE))
                .hasMessageStartingWith(txt + ": is a text file");
        assertThat(leftovers()).isEmpty();
        assertThat(Files.exists(tmp.resolve("out"))).isFalse();
    }

    // ---------------------------------------------------------------- the split

    private Path corpus(int documents) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < documents; i++) sb.append(json("Document number " + i + " " + "abc ".repeat(i % 50))).append('\n');
        return write("corpus.jsonl", sb.toString());
    }

    private static byte[] bytes(Path p) throws IOException {
        return Files.readAllBytes(p);
    }

    @Test
    void theSplitDependsOnTheSeedOnlyNotOnThreads() throws IOException {
        Path in = corpus(3000);
        Path out1 = tmp.resolve("o1"), out2 = tmp.resolve("o2"), out3 = tmp.resolve("o3"), out4 = tmp.resolve("o4");
        Prepare.run(opts(in).tokenizer("gpt2").valFraction(0.05).seed(11).jobs(1).out(out1).build(), ProgressListener.NONE);
        Prepare.run(opts(in).tokenizer("gpt2").valFraction(0.05).seed(11).jobs(4).out(out2).build(), ProgressListener.NONE);
        Prepare.run(opts(in).tokenizer("gpt2").valFraction(0.05).seed(11).jobs(3).out(out3).build(), ProgressListener.NONE);
        Prepare.run(opts(in).tokenizer("gpt2").valFraction(0.05).seed(12).jobs(2).out(out4).build(), ProgressListener.NONE);
        for (String f : List.of("train.bin", "train.json", "val.bin", "val.json")) {
            assertThat(bytes(out2.resolve(f))).as(f).isEqualTo(bytes(out1.resolve(f)));
            assertThat(bytes(out3.resolve(f))).as(f).isEqualTo(bytes(out1.resolve(f)));
        }
        assertThat(bytes(out4.resolve("val.bin"))).isNotEqualTo(bytes(out1.resolve("val.bin")));
        Tokenizer t = Tokenizers.open("gpt2");
        assertThat(docs(out1.resolve("train.bin"), t).size() + docs(out1.resolve("val.bin"), t).size()).isEqualTo(3000);
    }

    @Test
    void valFractionIsRoughlyRespected() throws IOException {
        Path in = corpus(4000);
        PrepareReport r = Prepare.run(opts(in).valFraction(0.1).seed(5).build(), ProgressListener.NONE);
        assertThat(r.val().documents()).isBetween(330L, 470L); // 400 expected, sd 19
        assertThat(r.train().documents() + r.val().documents()).isEqualTo(4000);
        assertThat(r.warnings()).isEmpty();
        PrepareReport tiny = Prepare.run(opts(write("tiny.txt", "one")).valFraction(0.01).out(tmp.resolve("tiny")).build(),
                ProgressListener.NONE);
        assertThat(tiny.warnings()).anyMatch(w -> w.startsWith("no document went to validation"));
        assertThat(Files.exists(tmp.resolve("tiny/val.bin"))).isTrue();
        assertThat(CptTokensFormat.open(tmp.resolve("tiny/val.bin")).length()).isZero();
    }

    // ---------------------------------------------------------------- bad input

    @Test
    void badLinesAreErrorsNamingFileAndLine() throws IOException {
        Path notJson = write("bad1.jsonl", json("ok") + "\n\n{\"text\": \"unterminated\n");
        assertThatThrownBy(() -> Prepare.run(opts(notJson).build(), ProgressListener.NONE))
                .isInstanceOf(PrepareException.class)
                .hasMessageStartingWith(notJson + ":3: not valid JSON")
                .satisfies(e -> assertThat(((PrepareException) e).line()).isEqualTo(3));
        Path noText = write("bad2.jsonl", json("ok") + "\n{\"body\": \"x\"}\n");
        assertThatThrownBy(() -> Prepare.run(opts(noText).build(), ProgressListener.NONE))
                .hasMessageStartingWith(noText + ":2: no \"text\" field");
        Path notString = write("bad3.jsonl", "{\"text\": 5}\n");
        assertThatThrownBy(() -> Prepare.run(opts(notString).build(), ProgressListener.NONE))
                .hasMessageStartingWith(notString + ":1: \"text\" is not a string");
        Path array = write("bad4.jsonl", "[\"text\"]\n");
        assertThatThrownBy(() -> Prepare.run(opts(array).build(), ProgressListener.NONE))
                .hasMessageStartingWith(array + ":1: not a JSON object");
        Path trailing = write("bad5.jsonl", "{\"text\": \"a\"} {\"text\": \"b\"}\n");
        assertThatThrownBy(() -> Prepare.run(opts(trailing).build(), ProgressListener.NONE))
                .hasMessageStartingWith(trailing + ":1: more after the JSON object");
        assertThat(leftovers()).isEmpty();
        assertThat(Files.exists(tmp.resolve("out"))).isFalse();
    }

    @Test
    void skipBadLinesCountsThem() throws IOException {
        Path in = write("mixed.jsonl", json("a") + "\nnot json\n" + json("b") + "\n{\"x\":1}\n{\"text\":null}\n" + json("c") + "\n");
        PrepareReport r = Prepare.run(opts(in).skipBadLines(true).build(), ProgressListener.NONE);
        assertThat(r.badLinesSkipped()).isEqualTo(3);
        assertThat(r.warnings()).contains("skipped " + in + ":2: not valid JSON: Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')")
                .anyMatch(w -> w.startsWith("skipped " + in + ":4: no \"text\" field"))
                .anyMatch(w -> w.startsWith("skipped " + in + ":5: \"text\" is not a string"));
        assertThat(docs(tmp.resolve("out/train.bin"), Tokenizers.open("bytes"))).containsExactly("a", "b", "c");
    }

    @Test
    void anEmptyCorpusIsAnError() throws IOException {
        Files.createDirectories(tmp.resolve("empty-dir"));
        Path empty = write("empty.txt", "");
        Path blank = write("blank.jsonl", "\n\n" + json("") + "\n");
        assertThatThrownBy(() -> Prepare.run(opts(tmp.resolve("empty-dir"), empty, blank).build(), ProgressListener.NONE))
                .isInstanceOf(PrepareException.class)
                .hasMessageStartingWith("no documents in ")
                .hasMessageContaining("1 empty documents");
        assertThat(leftovers()).isEmpty();
        assertThat(Files.exists(tmp.resolve("out"))).isFalse();
    }

    @Test
    void missingInputsAndCorruptCompressedFilesAreNamed() throws IOException {
        Path missing = tmp.resolve("missing.jsonl");
        assertThatThrownBy(() -> Prepare.run(opts(missing).build(), ProgressListener.NONE))
                .isInstanceOf(PrepareException.class).hasMessage(missing + ": no such file or directory");

        Path good = gzip("good.jsonl.gz", (json("x".repeat(100)) + "\n").repeat(2000));
        byte[] g = Files.readAllBytes(good);
        Path truncatedGz = tmp.resolve("truncated.jsonl.gz");
        Files.write(truncatedGz, Arrays.copyOf(g, g.length / 2));
        assertThatThrownBy(() -> Prepare.run(opts(truncatedGz).build(), ProgressListener.NONE))
                .isInstanceOf(PrepareException.class).hasMessageStartingWith(truncatedGz + ": corrupt or truncated gzip data");
        Path notGz = write("not.jsonl.gz", json("plain"));
        assertThatThrownBy(() -> Prepare.run(opts(notGz).build(), ProgressListener.NONE))
                .hasMessageStartingWith(notGz + ": corrupt or truncated gzip data");

        Path goodZst = zstd("good.jsonl.zst", (json("y".repeat(100)) + "\n").repeat(2000));
        byte[] z = Files.readAllBytes(goodZst);
        Path truncatedZst = tmp.resolve("truncated.jsonl.zst");
        Files.write(truncatedZst, Arrays.copyOf(z, z.length / 2));
        assertThatThrownBy(() -> Prepare.run(opts(truncatedZst).build(), ProgressListener.NONE))
                .isInstanceOf(PrepareException.class).hasMessageStartingWith(truncatedZst + ": corrupt or truncated zstd data");
        byte[] garbled = z.clone();
        for (int i = 20; i < garbled.length; i += 7) garbled[i] ^= 0x5A;
        Path garbledZst = tmp.resolve("garbled.jsonl.zst");
        Files.write(garbledZst, garbled);
        assertThatThrownBy(() -> Prepare.run(opts(garbledZst).build(), ProgressListener.NONE))
                .isInstanceOf(PrepareException.class).hasMessageStartingWith(garbledZst + ": ");
        assertThat(leftovers()).isEmpty();
        assertThat(Files.exists(tmp.resolve("out"))).isFalse();
    }

    @Test
    void unknownTokenizerFailsBeforeAnythingIsWritten() throws IOException {
        Path in = write("a.txt", "a");
        assertThatThrownBy(() -> Prepare.run(opts(in).tokenizer("nope").build(), ProgressListener.NONE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown tokenizer 'nope'");
        assertThat(leftovers()).isEmpty();
    }

    // ---------------------------------------------------------------- the output directory

    @Test
    void anExistingOutputDirectoryIsRefusedUnlessOverwriting() throws IOException {
        Path in = write("a.txt", "first");
        Files.createDirectories(tmp.resolve("out"));
        Files.writeString(tmp.resolve("out/keep.txt"), "mine");
        assertThatThrownBy(() -> Prepare.run(opts(in).build(), ProgressListener.NONE))
                .isInstanceOf(PrepareException.class).hasMessageStartingWith(tmp.resolve("out") + ": already exists");
        assertThat(Files.readString(tmp.resolve("out/keep.txt"))).isEqualTo("mine");

        Prepare.run(opts(in).overwrite(true).build(), ProgressListener.NONE);
        assertThat(Files.exists(tmp.resolve("out/keep.txt"))).isFalse();
        assertThat(docs(tmp.resolve("out/train.bin"), Tokenizers.open("bytes"))).containsExactly("first");
        assertThat(leftovers()).isEmpty();
    }

    @Test
    void aFailureLeavesNoTemporaryDirectoryAndKeepsTheOldOutput() throws IOException {
        Path in = write("a.txt", "first");
        Prepare.run(opts(in).build(), ProgressListener.NONE);
        // a bad line far into the input, after batches have been written to the temporary directory
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 20_000; i++) sb.append(json("document " + i + " " + "z".repeat(100))).append('\n');
        sb.append("oops\n");
        Path bad = write("late.jsonl", sb.toString());
        assertThatThrownBy(() -> Prepare.run(opts(bad).overwrite(true).build(), ProgressListener.NONE))
                .hasMessageStartingWith(bad + ":20001: not valid JSON");
        assertThat(leftovers()).isEmpty();
        assertThat(docs(tmp.resolve("out/train.bin"), Tokenizers.open("bytes"))).containsExactly("first");
        // and a listener that gives up stops the run the same way
        assertThatThrownBy(() -> Prepare.run(opts(corpus(10)).out(tmp.resolve("new")).build(), (d, t) -> {
            throw new IllegalStateException("cancelled");
        })).hasMessage("cancelled");
        assertThat(leftovers()).isEmpty();
        assertThat(Files.exists(tmp.resolve("new"))).isFalse();
    }

    // ---------------------------------------------------------------- hf

    @Test
    void preparesWithAHuggingFaceTokenizer() throws IOException, URISyntaxException {
        Path dir = Path.of(getClass().getResource("/tokenize/wordlevel/tokenizer.json").toURI()).getParent();
        Path in = write("hf.jsonl", json("Hello world.") + "\n" + json("the cat <|endoftext|> sat") + "\n");
        PrepareReport r = Prepare.run(opts(in).tokenizer("hf:" + dir).build(), ProgressListener.NONE);
        TokenShard s = CptTokensFormat.open(tmp.resolve("out/train.bin"));
        int[] all = new int[(int) s.length()];
        s.read(0, all, 0, all.length);
        assertThat(all).containsExactly(0, 2, 3, 4, 0, 5, 6, 7, 8, 9, 10, 11);
        assertThat(r.tokenizer().vocabSize()).isEqualTo(12);
        assertThat(s.tokenizer().id()).isEqualTo("hf:" + dir);
    }
}
