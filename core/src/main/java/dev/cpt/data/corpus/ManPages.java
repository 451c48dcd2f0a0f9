package dev.cpt.data.corpus;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Manual pages ({@code manpages}, {@code manpages-de}): each page the package installs (as its
 * dpkg file list names them, so other installed software does not change the corpus), turned from
 * roff into plain text, is a document. The conversion keeps the prose and drops the typesetting: request lines lose their
 * request name, font and size escapes vanish, the common character escapes become characters.
 */
final class ManPages implements TextSource {
    private final Path root;
    private final String pkg;

    /** @param root where the package's files are: {@code /}, or a directory it was unpacked into */
    ManPages(Path root, String pkg) {
        this.root = root;
        this.pkg = pkg;
    }

    @Override
    public String describe() {
        return "manual pages of Debian package " + pkg + Texts.under(root);
    }

    @Override
    public boolean available() {
        try {
            return !pages().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    private List<Path> pages() throws IOException {
        return Texts.packageFiles(root, pkg, p -> {
            String parent = p.getParent().getFileName().toString();
            return parent.matches("man[1-8]") && p.getFileName().toString().endsWith(".gz") && !Files.isSymbolicLink(p);
        });
    }

    @Override
    public long estimatedBytes() throws IOException {
        long n = 0;
        for (Path page : pages()) n += Texts.textBytes(page);
        return n;
    }

    @Override
    public void forEachDocument(java.util.function.LongPredicate keep, Consumer<String> sink) throws IOException {
        long ordinal = 0;
        for (Path page : pages()) {
            if (!keep.test(ordinal++)) continue;
            String text = toPlainText(Texts.read(page));
            if (text.length() > 40) sink.accept(text); // skip ".so" redirections and stubs
        }
    }

    private static final Pattern FONT = Pattern.compile("\\\\f(\\[[^]]*]|\\(..|.)");
    private static final Pattern SIZE = Pattern.compile("\\\\s[-+]?\\d+");
    private static final Pattern NAMED = Pattern.compile("\\\\\\((..)|\\\\\\[([^]]+)]");
    private static final Pattern OTHER = Pattern.compile("\\\\[&|^,/%:)]|\\\\\\*\\(?..|\\\\\\*.");

    static String toPlainText(String roff) {
        StringBuilder out = new StringBuilder();
        for (String line : roff.split("\n")) {
            if (line.startsWith(".\\\"") || line.startsWith("'\\\"") || line.startsWith("\\\"")) continue; // comments
            if (line.startsWith(".") || line.startsWith("'")) {
                String[] parts = line.substring(1).strip().split("\\s+", 2);
                String request = parts[0];
                if (request.equals("so")) return ""; // a redirection to another page
                if (parts.length < 2 || !(request.matches("S[HS]|[BI]|[BIR][BIR]|T[PH]|IP|SM|SB|UR|MT|Nm|Nd|Sh|Ss|Op|Ar|Fl|Xr|Pa|Dq|Ql"))) {
                    if (request.matches("P|PP|LP|sp|br|TP|IP|HP|Pp")) out.append('\n');
                    continue;
                }
                line = request.equals("TH") ? "" : parts[1].replace("\"", "");
            }
            line = FONT.matcher(line).replaceAll("");
            line = SIZE.matcher(line).replaceAll("");
            line = NAMED.matcher(line).replaceAll(m -> named(m.group(1) != null ? m.group(1) : m.group(2)));
            line = OTHER.matcher(line).replaceAll("");
            line = line.replace("\\-", "-").replace("\\e", "\\").replace("\\ ", " ").replace("\\~", " ")
                    .replace("\\0", " ").replace("\\c", "");
            if (!line.isBlank()) out.append(line.strip()).append('\n');
        }
        return out.toString().replaceAll("\n{3,}", "\n\n").strip() + "\n";
    }

    private static String named(String name) {
        return switch (name) {
            case "em", "en" -> "-";
            case "lq", "rq", "dq" -> "\"";
            case "oq", "cq", "aq" -> "'";
            case "bu" -> "*";
            case "co" -> "(C)";
            case "ss" -> "ß";
            case ":a" -> "ä";
            case ":o" -> "ö";
            case ":u" -> "ü";
            case ":A" -> "Ä";
            case ":O" -> "Ö";
            case ":U" -> "Ü";
            case "Fo" -> "«";
            case "Fc" -> "»";
            default -> "";
        };
    }
}
