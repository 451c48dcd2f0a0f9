package dev.cpt.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointManifestTest {
    @TempDir
    Path tmp;

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    @Test
    void listsEveryFileWithItsSizeAndDigestAndChecksThem() throws Exception {
        Path c = tmp.resolve("step-00000010");
        Files.createDirectories(c.resolve("engine"));
        byte[] big = new byte[3 << 20]; // over one read chunk
        for (int i = 0; i < big.length; i++) big[i] = (byte) (i * 31 + (i >> 9));
        Files.write(c.resolve("engine/weights.bin"), big);
        Files.writeString(c.resolve("loop.json"), "{}");
        Files.writeString(c.resolve("engine/.weights.bin.1234.tmp"), "a writer's temporary: not part of it");

        CheckpointManifest m = CheckpointManifest.write(c);
        assertThat(m.entries()).containsExactly(
                new CheckpointManifest.Entry("engine/weights.bin", big.length, sha256(big)),
                new CheckpointManifest.Entry("loop.json", 2, sha256("{}".getBytes(StandardCharsets.UTF_8))));
        assertThat(CheckpointManifest.read(c)).contains(m);
        CheckpointManifest.verify(c);

        big[2_000_000] ^= 0x40;
        Files.write(c.resolve("engine/weights.bin"), big);
        assertThatThrownBy(() -> CheckpointManifest.verify(c)).isInstanceOf(IOException.class)
                .hasMessage("checkpoint " + c + " is damaged: engine/weights.bin fails its checksum (SHA-256 " + sha256(big)
                        + ", the manifest says " + m.entries().get(0).sha256() + ")");
    }

    @Test
    void aShardsDigestComesFromTheSidecarItsRankWrote() throws Exception {
        Path c = tmp.resolve("step-00000020");
        Path shard = Files.createDirectories(c.resolve("engine")).resolve("torch-rank-00001-of-00002.pt");
        Files.writeString(shard, "rank 1's elements");
        CheckpointManifest.writeSidecar(shard);
        assertThat(Files.readString(c.resolve("engine/torch-rank-00001-of-00002.pt.sha256")))
                .isEqualTo(sha256("rank 1's elements".getBytes(StandardCharsets.UTF_8)) + "  torch-rank-00001-of-00002.pt\n");

        // Taken as the sidecar says, not read again: a sidecar that lies makes the check fail.
        Files.writeString(c.resolve("engine/torch-rank-00001-of-00002.pt.sha256"), "0".repeat(64) + "  torch-rank-00001-of-00002.pt\n");
        CheckpointManifest m = CheckpointManifest.write(c);
        assertThat(m.entries()).singleElement().extracting(CheckpointManifest.Entry::sha256).isEqualTo("0".repeat(64));
        assertThatThrownBy(() -> CheckpointManifest.verify(c)).hasMessageContaining("engine/torch-rank-00001-of-00002.pt fails its checksum");

        Files.writeString(c.resolve("engine/torch-rank-00001-of-00002.pt.sha256"), "garbage\n");
        assertThatThrownBy(() -> CheckpointManifest.write(c)).isInstanceOf(IOException.class)
                .hasMessageContaining("torch-rank-00001-of-00002.pt.sha256 holds no SHA-256 of torch-rank-00001-of-00002.pt");
    }

    @Test
    void aMissingFileAnUnreadableManifestAndAnOlderCheckpointWithoutOne() throws Exception {
        Path c = Files.createDirectories(tmp.resolve("step-00000030"));
        Files.writeString(c.resolve("loop.json"), "{}");
        CheckpointManifest.verify(c); // no manifest: written before cpt kept them, nothing to check against
        assertThat(CheckpointManifest.read(c)).isEmpty();

        CheckpointManifest.write(c);
        Files.delete(c.resolve("loop.json"));
        assertThatThrownBy(() -> CheckpointManifest.verify(c)).hasMessageEndingWith("is damaged: loop.json is missing");

        Files.writeString(c.resolve("manifest.json"), "{ \"files\": [");
        assertThatThrownBy(() -> CheckpointManifest.read(c)).hasMessageStartingWith(c.resolve("manifest.json") + " cannot be read");
        Files.writeString(c.resolve("manifest.json"), "{ \"algorithm\": \"MD5\", \"files\": [] }");
        assertThatThrownBy(() -> CheckpointManifest.read(c)).hasMessageContaining("is not a checkpoint manifest");
    }
}
