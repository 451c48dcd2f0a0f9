package dev.cpt.ffi;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds and loads {@code libcpt_torch.so}: at {@code -Dcpt.native.lib=PATH} or {@code CPT_NATIVE_LIB},
 * else at {@code native/build/libcpt_torch.so} of the project these classes were built in (found by
 * walking up from their jar or class directory). A missing library, or a libtorch it cannot find,
 * is an {@link UnavailableException} that says how to get it.
 */
public final class NativeLibrary {
    private NativeLibrary() {}

    public static final String FILE = "libcpt_torch.so";
    public static final String INSTALL = "build it with native/build.sh (it needs libtorch: apt-get install libtorch-dev "
            + "libopenblas0-pthread cmake g++), or point CPT_NATIVE_LIB at a built " + FILE;

    /** The torch engine cannot run here, and why. */
    public static final class UnavailableException extends IllegalStateException {
        public UnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static SymbolLookup lookup;
    private static Path loaded;

    /** Loads the library (once); throws {@link UnavailableException} naming every place looked. */
    public static synchronized SymbolLookup load() {
        if (lookup != null) return lookup;
        List<Path> tried = new ArrayList<>();
        Path path = find(tried);
        if (path == null) {
            throw new UnavailableException("the torch engine's native library " + FILE + " was not found (looked at "
                    + String.join(", ", tried.stream().map(Path::toString).toList()) + "); " + INSTALL, null);
        }
        lookup = open(path);
        loaded = path;
        return lookup;
    }

    /** Opens the library at {@code path}; a missing file or an unloadable one (no libtorch) is an {@link UnavailableException}. */
    public static SymbolLookup open(Path path) {
        try {
            return SymbolLookup.libraryLookup(path, Arena.global());
        } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
            throw new UnavailableException("cannot load " + path + " (" + e.getMessage() + "); is libtorch installed? " + INSTALL, e);
        }
    }

    /** Whether the library can be found here (without loading it). */
    public static boolean present() {
        return find(new ArrayList<>()) != null;
    }

    /** The loaded library's path, or null before {@link #load}. */
    public static synchronized Path path() {
        return loaded;
    }

    private static Path find(List<Path> tried) {
        String explicit = System.getProperty("cpt.native.lib");
        if (explicit == null || explicit.isBlank()) explicit = System.getenv("CPT_NATIVE_LIB");
        if (explicit != null && !explicit.isBlank()) {
            Path p = Path.of(explicit);
            tried.add(p);
            return Files.isRegularFile(p) ? p.toAbsolutePath() : null;
        }
        try {
            Path here = Path.of(NativeLibrary.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path dir = here.toAbsolutePath(); dir != null; dir = dir.getParent()) {
                Path p = dir.resolve("native").resolve("build").resolve(FILE);
                tried.add(p);
                if (Files.isRegularFile(p)) return p;
                if (tried.size() >= 6) break;
            }
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            // no code source to start from: only the explicit settings count
        }
        return null;
    }
}
