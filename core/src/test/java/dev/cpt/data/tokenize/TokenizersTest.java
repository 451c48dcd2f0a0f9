package dev.cpt.data.tokenize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizersTest {
    @TempDir
    Path tmp;

    static Path wordLevelDir() throws URISyntaxException {
        return Path.of(TokenizersTest.class.getResource("/tokenize/wordlevel/tokenizer.json").toURI()).getParent();
    }

    // ---- bytes

    @Test
    void bytesRoundTripIncludingNonAscii() {
        Tokenizer t = Tokenizers.open("bytes");
        String text = "Grüße, 世界! 🎉\n";
        int[] tokens = t.encode(text);
        assertThat(tokens).hasSize(text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
        assertThat(java.util.Arrays.stream(tokens).allMatch(x -> x > 0 && x < 256)).isTrue();
        assertThat(t.decode(tokens, 0, tokens.length)).isEqualTo(text);
        assertThat(t.vocabSize()).isEqualTo(256);
        assertThat(t.endOfText()).isZero();
        assertThat(t.id()).isEqualTo("bytes");
    }

    // ---- gpt2

    @Test
    void gpt2KnownEncodings() {
        Tokenizer t = Tokenizers.open("gpt2");
        assertThat(t.id()).isEqualTo("gpt2");
        assertThat(t.vocabSize()).isEqualTo(50257);
        assertThat(t.endOfText()).isEqualTo(50256);
        assertThat(t.encode("Hello world")).containsExactly(15496, 995);
        assertThat(t.encode(" the")).containsExactly(262);
        assertThat(t.encode("\n\n")).containsExactly(628);
        assertThat(t.encode("")).isEmpty();
        String text = "It's 2024: naïve café — 日本語 🎉!\n";
        int[] tokens = t.encode(text);
        assertThat(t.decode(tokens, 0, tokens.length)).isEqualTo(text);
        assertThat(Tokenizers.open("gpt2")).isSameAs(t);
    }

    @Test
    void gpt2EncodesEndOfTextSpellingAsOrdinaryText() {
        Tokenizer t = Tokenizers.open("gpt2");
        int[] tokens = t.encode("a<|endoftext|>b");
        assertThat(tokens).doesNotContain(50256);
        assertThat(t.decode(tokens, 0, tokens.length)).isEqualTo("a<|endoftext|>b");
        // and the separator itself decodes to its spelling
        assertThat(t.decode(new int[] {50256}, 0, 1)).isEqualTo("<|endoftext|>");
    }

    @Test
    void cuttingAfterALoneLineBreakBetweenNonSpacesChangesNoTokens() {
        for (Tokenizer t : List.of(Tokenizers.open("gpt2"), Tokenizers.open("bytes"))) {
            assertThat(t.cutsCleanlyAtLineBreaks()).isTrue();
            String[][] pairs = {
                    {"Hello world.\n", "It's fine"}, {"x\n", "'s"}, {"123\n", "456"}, {"a,\n", "—b"},
                    {"end\n", "Über"}, {"日本\n", "語"}, {"foo  bar\n", "baz  \n\n qux"}, {"(\n", ")"}};
            for (String[] p : pairs) {
                int[] whole = t.encode(p[0] + p[1]);
                int[] a = t.encode(p[0]);
                int[] b = t.encode(p[1]);
                int[] joined = new int[a.length + b.length];
                System.arraycopy(a, 0, joined, 0, a.length);
                System.arraycopy(b, 0, joined, a.length, b.length);
                assertThat(joined).as(t.id() + " " + p[0] + "|" + p[1]).containsExactly(whole);
            }
        }
        // the conditions matter: two line breaks, or a space after, do merge across the cut
        Tokenizer g = Tokenizers.open("gpt2");
        assertThat(g.encode("a\n\nb")).isNotEqualTo(concat(g.encode("a\n\n"), g.encode("b")));
    }

    private static int[] concat(int[] a, int[] b) {
        int[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void tokenizersGiveTheSameTokensFromManyThreads() throws Exception {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 200; i++) texts.add("Document " + i + ": the cat sat on the mat, " + "word".repeat(i % 7) + " ünïcödé\n");
        for (String id : List.of("bytes", "gpt2", "hf:" + wordLevelDir())) {
            Tokenizer t = Tokenizers.open(id);
            List<int[]> serial = texts.stream().map(t::encode).toList();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<int[]>> futures = new ArrayList<>();
                for (int round = 0; round < 5; round++) for (String s : texts) futures.add(pool.submit(() -> t.encode(s)));
                for (int i = 0; i < futures.size(); i++) assertThat(futures.get(i).get()).containsExactly(serial.get(i % texts.size()));
            } finally {
                pool.shutdownNow();
            }
        }
    }

    // ---- hf

    @Test
    void hfWordLevelEncodesDecodesAndFindsEndOfText() throws Exception {
        Path dir = wordLevelDir();
        try (HfTokenizer t = (HfTokenizer) Tokenizers.open("hf:" + dir)) {
            assertThat(t.id()).isEqualTo("hf:" + dir.toAbsolutePath().normalize());
            assertThat(t.vocabSize()).isEqualTo(12);
            assertThat(t.endOfText()).isZero();
            assertThat(t.encode("Hello World.")).containsExactly(2, 3, 4);
            assertThat(t.encode("the dog sat")).containsExactly(5, 1, 11);
            assertThat(t.decode(new int[] {9, 2, 3, 4, 9}, 1, 4)).isEqualTo("hello world .");
            // no special tokens added, nothing truncated at DJL's default 512
            int[] many = t.encode("cat ".repeat(2000));
            assertThat(many).hasSize(2000).containsOnly(6);
            // the separator's spelling inside a document stays ordinary text
            assertThat(t.encode("hello<|endoftext|>world")).containsExactly(2, 7, 8, 9, 10, 3);
            assertThat(t.encode("<|endoftext|>")).doesNotContain(0);
        }
        // the file itself works as well as its directory
        try (HfTokenizer t = HfTokenizer.open(dir.resolve("tokenizer.json").toString())) {
            assertThat(t.encode("cat")).containsExactly(6);
            assertThat(t.cutsCleanlyAtLineBreaks()).isFalse();
        }
    }

    @Test
    void hfEndOfTextFallsBackToEndOfSequenceThenNeedsToBeNamed() throws Exception {
        String base = Files.readString(wordLevelDir().resolve("tokenizer.json"));
        // no added tokens; "</s>" in the model's vocabulary
        Path eos = tmp.resolve("eos");
        Files.createDirectories(eos);
        Files.writeString(eos.resolve("tokenizer.json"), base
                .replaceAll("(?s)\"added_tokens\": \\[.*?\\],", "\"added_tokens\": [],")
                .replace("\"<|endoftext|>\": 0", "\"</s>\": 0").replace("\"sat\": 11", "\"sat\": 11, \"<eos>\": 12"));
        try (HfTokenizer t = HfTokenizer.open(eos.toString())) {
            assertThat(t.endOfText()).isZero();
            assertThat(t.vocabSize()).isEqualTo(13);
        }
        Path none = tmp.resolve("none.json");
        Files.writeString(none, base.replaceAll("(?s)\"added_tokens\": \\[.*?\\],", "\"added_tokens\": [],")
                .replace("\"<|endoftext|>\": 0", "\"<pad>\": 0"));
        assertThatThrownBy(() -> Tokenizers.open("hf:" + none)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("<|endoftext|>").hasMessageContaining("</s>")
                .hasMessageContaining("hf:" + none + "#eot=ID");
        try (HfTokenizer t = HfTokenizer.open(none + "#eot=1")) {
            assertThat(t.endOfText()).isEqualTo(1);
            assertThat(t.id()).isEqualTo("hf:" + none + "#eot=1");
        }
        try (HfTokenizer t = HfTokenizer.open(none + "#eot=<pad>")) {
            assertThat(t.endOfText()).isZero();
        }
        assertThatThrownBy(() -> Tokenizers.open("hf:" + none + "#eot=12")).hasMessageContaining("outside the vocabulary (0..11)");
        assertThatThrownBy(() -> Tokenizers.open("hf:" + none + "#eot=<nope>")).hasMessageContaining("has no token <nope>");
    }

    @Test
    void hfIdsOfOneTokenizerJsonAreTheSameTokenizerByPathOrBytes() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("model"));
        Files.copy(wordLevelDir().resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Path copy = Files.createDirectories(tmp.resolve("copy"));
        Files.copy(wordLevelDir().resolve("tokenizer.json"), copy.resolve("tokenizer.json"));
        Path other = Files.createDirectories(tmp.resolve("other"));
        Files.writeString(other.resolve("tokenizer.json"), Files.readString(dir.resolve("tokenizer.json")).replace("\"sat\": 11", "\"sit\": 11"));

        assertThat(Tokenizers.sameId("hf:" + dir, "hf:" + dir.resolve("tokenizer.json"))).as("a directory and its file").isTrue();
        assertThat(Tokenizers.sameId("hf:" + dir, "hf:" + dir + "/../model")).isTrue();
        assertThat(Tokenizers.sameId("hf:" + dir, "hf:" + copy)).as("the same bytes elsewhere").isTrue();
        assertThat(Tokenizers.sameId("hf:" + dir, "hf:" + other)).as("other bytes").isFalse();
        assertThat(Tokenizers.sameId("hf:" + dir + "#eot=4", "hf:" + copy + "#eot=4")).isTrue();
        assertThat(Tokenizers.sameId("hf:" + dir + "#eot=4", "hf:" + copy)).as("another end of text").isFalse();
        assertThat(Tokenizers.sameId("hf:" + tmp.resolve("gone"), "hf:" + tmp.resolve("gone2"))).isFalse();
        assertThat(Tokenizers.sameId("gpt2", "gpt2")).isTrue();
        assertThat(Tokenizers.sameId("gpt2", "bytes")).isFalse();
        assertThat(dev.cpt.data.shard.Shards.sameTokenizer(new dev.cpt.data.shard.TokenizerInfo("hf:" + dir, 12, 0),
                new dev.cpt.data.shard.TokenizerInfo("hf:" + copy.resolve("tokenizer.json"), 12, 0))).isTrue();
    }

    @Test
    void unknownIdsAndMissingFilesAreClearErrors() throws IOException {
        assertThatThrownBy(() -> Tokenizers.open("gpt-4")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown tokenizer 'gpt-4'").hasMessageContaining("bytes")
                .hasMessageContaining("gpt2").hasMessageContaining("hf:PATH");
        assertThatThrownBy(() -> Tokenizers.open(null)).isInstanceOf(IllegalArgumentException.class);
        Path missing = tmp.resolve("nope");
        assertThatThrownBy(() -> Tokenizers.open("hf:" + missing)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("tokenizer file " + missing + " does not exist");
        Files.createDirectories(tmp.resolve("empty"));
        assertThatThrownBy(() -> Tokenizers.open("hf:" + tmp.resolve("empty")))
                .hasMessage("tokenizer file " + tmp.resolve("empty/tokenizer.json") + " does not exist");
        Path broken = tmp.resolve("broken.json");
        Files.writeString(broken, "{\"model\": ");
        assertThatThrownBy(() -> Tokenizers.open("hf:" + broken)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("tokenizer file " + broken + " is not valid JSON");
        Path unreadable = tmp.resolve("unreadable.json");
        Files.writeString(unreadable, "{}");
        if (unreadable.toFile().setReadable(false) && !Files.isReadable(unreadable)) {
            assertThatThrownBy(() -> Tokenizers.open("hf:" + unreadable)).hasMessageStartingWith("cannot read tokenizer file " + unreadable);
        }
    }
}
