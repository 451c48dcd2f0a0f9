package dev.cpt.data.corpus;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Gets the Debian packages the built-in corpora are made of onto a machine that lacks them, and
 * says how. In this order: they are installed already; they were unpacked into the cache by an
 * earlier run; as root, {@code apt-get install} them ({@code apt-get update} first when the package
 * lists are empty); otherwise (or when installing failed) {@code apt-get download} them into
 * {@code CACHE/debs} and unpack each with {@code dpkg-deb -x} into {@code CACHE/root}, which needs
 * no root. The unpacked root gets a dpkg-style file list per package
 * ({@code CACHE/root/var/lib/dpkg/info/PKG.list}), so the text sources read it as they read
 * {@code /}. Only when none of this works is the outcome {@link How#UNAVAILABLE}, with the reason.
 */
public final class DebianPackages {

    /** Where dpkg keeps a package's file list, relative to a root. */
    static final String FILE_LISTS = "var/lib/dpkg/info";

    private static final Duration UPDATE_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(10);
    private static final Duration DOWNLOAD_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration UNPACK_TIMEOUT = Duration.ofMinutes(2);

    /** Runs an external command; injectable so the choice can be tested without apt. */
    public interface ProcessRunner {
        /** Exit status and the output, standard output and error together. */
        record Result(int exitCode, String output) {}

        /**
         * @throws IOException when the program cannot be started (not installed, say) or runs past
         *                     {@code timeout}; the message names the command
         */
        Result run(List<String> command, Path directory, Duration timeout) throws IOException;
    }

    /** Runs commands with {@link ProcessBuilder}, output captured in a temporary file, killed past their time. */
    public static final ProcessRunner SYSTEM = (command, directory, timeout) -> {
        Path log = Files.createTempFile("cpt-process", ".log");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
            Process p;
            try {
                p = pb.start();
            } catch (IOException e) {
                throw new IOException("cannot run " + command.getFirst() + ": " + e.getMessage(), e);
            }
            try {
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                    throw new IOException(String.join(" ", command) + " ran past " + timeout.toSeconds() + " s and was stopped");
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while running " + String.join(" ", command), e);
            }
            return new ProcessRunner.Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    };

    public enum How { PRESENT, CACHED, INSTALLED, UNPACKED, UNAVAILABLE }

    /**
     * @param root where the packages' files are ({@code /} or the unpacked cache); null when {@link How#UNAVAILABLE}
     * @param line one plain line saying what was done, for the user
     */
    public record Outcome(How how, Path root, String line) {}

    private final List<String> packages;
    private final Predicate<Path> presentUnder;
    private final ProcessRunner runner;
    private final boolean asRoot;
    private final Path aptLists;

    /**
     * @param presentUnder whether the packages' text is complete under a root directory
     * @param asRoot       whether this process may install packages (effective uid 0)
     * @param aptLists     apt's package lists ({@code /var/lib/apt/lists}): empty means {@code apt-get update} first
     */
    public DebianPackages(List<String> packages, Predicate<Path> presentUnder, ProcessRunner runner, boolean asRoot,
                          Path aptLists) {
        this.packages = List.copyOf(packages);
        this.presentUnder = presentUnder;
        this.runner = runner;
        this.asRoot = asRoot;
        this.aptLists = aptLists;
    }

    /** For this machine: real processes, this process's effective uid, the system's apt lists. */
    public static DebianPackages onThisMachine(List<String> packages, Predicate<Path> presentUnder) {
        return new DebianPackages(packages, presentUnder, SYSTEM, effectiveUid(SYSTEM) == 0, Path.of("/var/lib/apt/lists"));
    }

    /** The cache beside a data directory: {@code DIR/../.debian-cache}. */
    public static Path cacheBeside(Path dataDir) {
        return dataDir.toAbsolutePath().normalize().resolveSibling(".debian-cache");
    }

    /** The effective uid from {@code /proc/self/status}, else from {@code id -u}; -1 when neither tells. */
    static long effectiveUid(ProcessRunner runner) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                // "Uid:" real, effective, saved, filesystem
                if (line.startsWith("Uid:")) return Long.parseLong(line.substring(4).strip().split("\\s+")[1]);
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux's procfs: ask id(1)
        }
        try {
            var r = runner.run(List.of("id", "-u"), Path.of("."), Duration.ofSeconds(10));
            return r.exitCode() == 0 ? Long.parseLong(r.output().strip()) : -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Makes the packages' files available, under {@code /} or under {@code cache/root}. */
    public Outcome obtain(Path cache) {
        String names = String.join(" ", packages);
        Path unpacked = cache.resolve("root");
        if (presentUnder.test(Path.of("/"))) {
            return new Outcome(How.PRESENT, Path.of("/"), "Debian corpora: using the installed packages " + names);
        }
        if (presentUnder.test(unpacked)) {
            return new Outcome(How.CACHED, unpacked, "Debian corpora: using the packages " + names + " unpacked earlier in " + unpacked);
        }
        List<String> failures = new ArrayList<>();
        if (asRoot) {
            try {
                install();
                if (presentUnder.test(Path.of("/"))) {
                    return new Outcome(How.INSTALLED, Path.of("/"), "Debian corpora: installed the packages " + names
                            + " with apt-get install (running as root)");
                }
                failures.add("apt-get install succeeded but the corpora's files are still missing");
            } catch (IOException e) {
                failures.add(e.getMessage());
            }
        }
        try {
            downloadAndUnpack(cache);
            if (presentUnder.test(unpacked)) {
                return new Outcome(How.UNPACKED, unpacked, "Debian corpora: downloaded the packages " + names
                        + " with apt-get download and unpacked them with dpkg-deb -x into " + unpacked
                        + (asRoot ? "" : " (not root: nothing installed)"));
            }
            failures.add("the packages were unpacked into " + unpacked + " but the corpora's files are missing there");
        } catch (IOException e) {
            failures.add(e.getMessage());
        }
        return new Outcome(How.UNAVAILABLE, null, "Debian corpora not installed (" + names + ") and not obtainable: "
                + String.join("; ", failures.stream().map(String::strip).toList()) + ". Building SYNTHETIC stand-ins instead");
    }

    private void install() throws IOException {
        if (listsEmpty()) {
            check(runner.run(List.of("apt-get", "update"), Path.of("/"), UPDATE_TIMEOUT), "apt-get update");
        }
        List<String> install = new ArrayList<>(List.of("apt-get", "install", "-y", "--no-install-recommends"));
        install.addAll(packages);
        check(runner.run(install, Path.of("/"), INSTALL_TIMEOUT), "apt-get install");
    }

    /** apt's lists hold nothing but its lock and partial-download directory on a machine never updated. */
    private boolean listsEmpty() {
        try (Stream<Path> s = Files.list(aptLists)) {
            return s.noneMatch(p -> p.getFileName().toString().endsWith("_Packages")
                    || p.getFileName().toString().contains("_Packages."));
        } catch (IOException e) {
            return true;
        }
    }

    private void downloadAndUnpack(Path cache) throws IOException {
        Path debs = cache.resolve("debs");
        Path root = cache.resolve("root");
        Files.createDirectories(debs);
        Files.createDirectories(root.resolve(FILE_LISTS));
        List<String> download = new ArrayList<>(List.of("apt-get", "download"));
        download.addAll(packages);
        ProcessRunner.Result r = runner.run(download, debs, DOWNLOAD_TIMEOUT);
        if (r.exitCode() != 0 && listsEmpty()) {
            throw new IOException("apt-get download failed (exit " + r.exitCode() + "; apt's package lists in " + aptLists
                    + " are empty and only root can run apt-get update): " + tail(r.output()));
        }
        check(r, "apt-get download");
        for (String pkg : packages) unpack(pkg, debFor(debs, pkg), root);
    }

    /** The newest-named {@code PKG_VERSION_ARCH.deb} apt-get download left in {@code debs}. */
    private static Path debFor(Path debs, String pkg) throws IOException {
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(debs, pkg + "_*.deb")) {
            s.forEach(found::add);
        }
        if (found.isEmpty()) throw new IOException("apt-get download left no " + pkg + "_*.deb in " + debs);
        found.sort(null);
        return found.getLast();
    }

    /**
     * Unpacks one package into {@code root}: first into a directory of its own, to learn its file
     * list (dpkg-deb -x keeps none), then moved into place; the list is written last, so a package
     * whose list is there was unpacked completely.
     */
    void unpack(String pkg, Path deb, Path root) throws IOException {
        Path staging = root.resolveSibling("unpacking-" + pkg);
        BuiltinCorpora.deleteTree(staging);
        Files.createDirectories(staging);
        try {
            check(runner.run(List.of("dpkg-deb", "-x", deb.toAbsolutePath().toString(), staging.toAbsolutePath().toString()),
                    staging.getParent(), UNPACK_TIMEOUT), "dpkg-deb -x " + deb.getFileName());
            List<String> listed = new ArrayList<>();
            List<Path> entries;
            try (Stream<Path> s = Files.walk(staging)) {
                entries = s.filter(p -> !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).sorted().toList();
            }
            for (Path p : entries) {
                Path relative = staging.relativize(p);
                Path target = root.resolve(relative.toString());
                Files.createDirectories(target.getParent());
                Files.move(p, target, StandardCopyOption.REPLACE_EXISTING);
                listed.add("/" + relative.toString().replace('\\', '/'));
            }
            if (listed.isEmpty()) throw new IOException("dpkg-deb -x " + deb + " unpacked no files");
            Path list = root.resolve(FILE_LISTS).resolve(pkg + ".list");
            Files.createDirectories(list.getParent());
            Path tmp = list.resolveSibling(list.getFileName() + ".tmp");
            Files.write(tmp, listed);
            Files.move(tmp, list, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            BuiltinCorpora.deleteTree(staging);
        }
    }

    private static void check(ProcessRunner.Result r, String what) throws IOException {
        if (r.exitCode() != 0) throw new IOException(what + " failed (exit " + r.exitCode() + "): " + tail(r.output()));
    }

    /** The last lines of a command's output: where apt and dpkg say what went wrong. */
    private static String tail(String output) {
        List<String> lines = output.strip().lines().filter(l -> !l.isBlank()).toList();
        String t = String.join(" | ", lines.subList(Math.max(0, lines.size() - 4), lines.size()));
        return t.isEmpty() ? "(no output)" : t;
    }
}
