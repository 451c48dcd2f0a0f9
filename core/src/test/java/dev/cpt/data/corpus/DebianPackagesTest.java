package dev.cpt.data.corpus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DebianPackagesTest {
    @TempDir
    Path tmp;

    static final List<String> PKGS = List.of("fortunes", "manpages");

    /** A stand-in for apt and dpkg: records the commands; "installs" by flipping a flag, "downloads" by writing .deb files. */
    static final class FakeApt implements DebianPackages.ProcessRunner {
        final List<String> commands = new ArrayList<>();
        final AtomicBoolean installed = new AtomicBoolean();
        boolean aptMissing, installFails, downloadFails;

        @Override
        public Result run(List<String> command, Path directory, Duration timeout) throws IOException {
            commands.add(String.join(" ", command));
            if (aptMissing && command.getFirst().equals("apt-get")) throw new IOException("cannot run apt-get: No such file");
            return switch (command.getFirst() + " " + command.get(1)) {
                case "apt-get update" -> new Result(0, "Reading package lists...");
                case "apt-get install" -> {
                    if (installFails) yield new Result(100, "E: Unable to locate package fortunes");
                    installed.set(true);
                    yield new Result(0, "Setting up fortunes");
                }
                case "apt-get download" -> {
                    if (downloadFails) yield new Result(100, "E: Failed to fetch http://deb.debian.org/ Temporary failure resolving");
                    for (String pkg : command.subList(2, command.size())) {
                        Files.writeString(directory.resolve(pkg + "_1.0_all.deb"), pkg);
                    }
                    yield new Result(0, "Get:1 ...");
                }
                case "dpkg-deb -x" -> {
                    // unpacks the "package" named in the fake .deb into the target directory
                    String pkg = Files.readString(Path.of(command.get(2)));
                    Path file = Path.of(command.get(3)).resolve("usr/share/" + pkg + "/text");
                    Files.createDirectories(file.getParent());
                    Files.writeString(file, "text of " + pkg);
                    yield new Result(0, "");
                }
                default -> throw new IOException("unexpected command " + command);
            };
        }
    }

    /** Present under a root when every package's file list is there (or, at /, when the fake installed them). */
    private static boolean present(Path root, FakeApt apt) {
        if (root.equals(Path.of("/"))) return apt.installed.get();
        return PKGS.stream().allMatch(p -> Files.isRegularFile(root.resolve(DebianPackages.FILE_LISTS).resolve(p + ".list")));
    }

    private DebianPackages packages(FakeApt apt, boolean asRoot, boolean listsEmpty) throws IOException {
        Path lists = Files.createDirectories(Files.createTempDirectory(tmp, "lists"));
        if (!listsEmpty) Files.writeString(lists.resolve("deb.debian.org_debian_dists_trixie_main_binary-amd64_Packages"), "x");
        return new DebianPackages(PKGS, root -> present(root, apt), apt, asRoot, lists);
    }

    @Test
    void presentPackagesAreUsedAndNothingRuns() throws IOException {
        FakeApt apt = new FakeApt();
        apt.installed.set(true);
        var got = packages(apt, true, false).obtain(tmp.resolve("cache"));
        assertThat(got.how()).isEqualTo(DebianPackages.How.PRESENT);
        assertThat(got.root()).isEqualTo(Path.of("/"));
        assertThat(apt.commands).isEmpty();
    }

    @Test
    void asRootTheyAreInstalledWithAnUpdateFirstWhenTheListsAreEmpty() throws IOException {
        FakeApt apt = new FakeApt();
        var got = packages(apt, true, true).obtain(tmp.resolve("cache"));
        assertThat(got.how()).isEqualTo(DebianPackages.How.INSTALLED);
        assertThat(got.root()).isEqualTo(Path.of("/"));
        assertThat(got.line()).contains("installed the packages fortunes manpages with apt-get install");
        assertThat(apt.commands).containsExactly("apt-get update", "apt-get install -y --no-install-recommends fortunes manpages");

        FakeApt updated = new FakeApt();
        packages(updated, true, false).obtain(tmp.resolve("cache2"));
        assertThat(updated.commands).containsExactly("apt-get install -y --no-install-recommends fortunes manpages");
    }

    @Test
    void notRootTheyAreDownloadedAndUnpackedIntoTheCacheWithFileLists() throws IOException {
        FakeApt apt = new FakeApt();
        Path cache = tmp.resolve("cache");
        var got = packages(apt, false, false).obtain(cache);
        assertThat(got.how()).isEqualTo(DebianPackages.How.UNPACKED);
        assertThat(got.root()).isEqualTo(cache.resolve("root"));
        assertThat(got.line()).contains("apt-get download").contains("dpkg-deb -x").contains(cache.resolve("root").toString())
                .contains("not root");
        assertThat(apt.commands.getFirst()).isEqualTo("apt-get download fortunes manpages");
        assertThat(apt.commands).noneMatch(c -> c.startsWith("apt-get install") || c.startsWith("apt-get update"));
        assertThat(cache.resolve("root/usr/share/fortunes/text")).hasContent("text of fortunes");
        assertThat(cache.resolve("root/var/lib/dpkg/info/manpages.list")).hasContent("/usr/share/manpages/text");
        assertThat(Texts.packageFiles(cache.resolve("root"), "fortunes", p -> true))
                .containsExactly(cache.resolve("root/usr/share/fortunes/text"));

        // a second run finds them unpacked and runs nothing
        FakeApt again = new FakeApt();
        var cached = packages(again, false, false).obtain(cache);
        assertThat(cached.how()).isEqualTo(DebianPackages.How.CACHED);
        assertThat(again.commands).isEmpty();
    }

    @Test
    void rootWhoseInstallFailsFallsBackToDownloading() throws IOException {
        FakeApt apt = new FakeApt();
        apt.installFails = true;
        var got = packages(apt, true, false).obtain(tmp.resolve("cache"));
        assertThat(got.how()).isEqualTo(DebianPackages.How.UNPACKED);
    }

    @Test
    void withoutAptTheReasonIsGivenAndTheOutcomeIsUnavailable() throws IOException {
        FakeApt apt = new FakeApt();
        apt.aptMissing = true;
        var got = packages(apt, true, false).obtain(tmp.resolve("cache"));
        assertThat(got.how()).isEqualTo(DebianPackages.How.UNAVAILABLE);
        assertThat(got.root()).isNull();
        assertThat(got.line()).contains("cannot run apt-get").contains("SYNTHETIC");
    }

    @Test
    void aFailedDownloadPassesAptsMessageOn() throws IOException {
        FakeApt apt = new FakeApt();
        apt.downloadFails = true;
        var got = packages(apt, false, false).obtain(tmp.resolve("cache"));
        assertThat(got.how()).isEqualTo(DebianPackages.How.UNAVAILABLE);
        assertThat(got.line()).contains("apt-get download failed (exit 100)").contains("Temporary failure resolving");

        FakeApt noLists = new FakeApt();
        noLists.downloadFails = true;
        var unlisted = packages(noLists, false, true).obtain(tmp.resolve("cache2"));
        assertThat(unlisted.line()).contains("package lists").contains("only root can run apt-get update");
    }

    @Test
    void theEffectiveUidIsRead() {
        long uid = DebianPackages.effectiveUid(DebianPackages.SYSTEM);
        assertThat(uid).isGreaterThanOrEqualTo(0);
        assertThat(uid == 0).isEqualTo("root".equals(System.getProperty("user.name")));
    }

    /**
     * The real fetch-and-unpack path: {@code apt-get download} and {@code dpkg-deb -x} of
     * {@code fortunes-min}, a package of the fortunes that .ci/run installs (fortunes depends on it),
     * into a cache, as a user without root would. It needs apt's lists and the network; only
     * outside CI ({@code CPT_CI} not 1) may it skip when they are missing.
     */
    @Test
    void aRealPackageIsDownloadedAndUnpackedWithItsFileList() throws IOException {
        boolean ci = "1".equals(System.getenv("CPT_CI"));
        String pkg = "fortunes-min";
        Path cache = tmp.resolve("cache");
        Path lists = Path.of("/var/lib/apt/lists");
        if (ci && DebianPackages.effectiveUid(DebianPackages.SYSTEM) == 0 && !hasPackageLists(lists)) {
            // a CI image that came with everything installed may never have fetched apt's lists
            var update = DebianPackages.SYSTEM.run(List.of("apt-get", "update"), Path.of("/"), Duration.ofMinutes(5));
            assertThat(update.exitCode()).as(update.output()).isZero();
        }
        var packages = new DebianPackages(List.of(pkg), root -> !root.equals(Path.of("/"))
                && Files.isRegularFile(root.resolve(DebianPackages.FILE_LISTS).resolve(pkg + ".list")),
                DebianPackages.SYSTEM, false, lists);
        var got = packages.obtain(cache);
        if (!ci) assumeTrue(got.how() == DebianPackages.How.UNPACKED, "apt-get download not possible here: " + got.line());
        assertThat(got.how()).as(got.line()).isEqualTo(DebianPackages.How.UNPACKED);
        Path root = cache.resolve("root");
        List<Path> cookies = Texts.packageFiles(root, pkg, p -> p.startsWith(root.resolve("usr/share/games/fortunes")));
        assertThat(cookies).isNotEmpty().allMatch(p -> p.startsWith(root));
        assertThat(root.resolve("usr/share/games/fortunes/fortunes")).isRegularFile();
        assertThat(new FortuneFiles(root, pkg, 0, 1).available()).isTrue();
        assertThat(Files.list(cache).map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("debs", "root");
    }

    private static boolean hasPackageLists(Path lists) throws IOException {
        if (!Files.isDirectory(lists)) return false;
        try (var s = Files.list(lists)) {
            return s.anyMatch(p -> p.getFileName().toString().contains("_Packages"));
        }
    }
}
