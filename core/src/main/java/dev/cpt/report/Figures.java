package dev.cpt.report;

import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.Optional;

/**
 * Whether this machine can draw the reports' figures. Java renders text through the system's fonts;
 * a bare server or container without any (no fontconfig, no TTF) fails at the first label, which
 * would otherwise end a finished training run with an exception. Reports then leave the figures
 * out and say why, and the numbers are written as always.
 */
public final class Figures {
    private Figures() {}

    /** What to install where text cannot be rendered. */
    public static final String INSTALL = "apt-get install fontconfig fonts-dejavu-core";

    private static volatile Optional<String> override;

    /** Why figures cannot be drawn here, or empty when they can (probed once). */
    public static Optional<String> unavailable() {
        Optional<String> o = override;
        return o != null ? o : Probe.REASON;
    }

    /** The line a report carries in place of its figures. */
    public static String note(String reason) {
        return "_Figures not drawn: Java cannot render text on this machine (" + reason + "). Install fonts "
                + "(Debian/Ubuntu: `" + INSTALL + "`) to have them drawn._\n";
    }

    /** For tests: behave as on a machine without fonts ({@code reason}), or probe again ({@code null}). */
    static void overrideForTest(String reason) {
        override = reason == null ? null : Optional.of(reason);
    }

    private static final class Probe {
        static final Optional<String> REASON = probe();

        private static Optional<String> probe() {
            try {
                BufferedImage image = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
                Graphics2D g = image.createGraphics();
                try {
                    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
                    g.getFontMetrics().stringWidth("0.1");
                    g.drawString("0.1", 1, 12);
                } finally {
                    g.dispose();
                }
                return Optional.empty();
            } catch (Exception | LinkageError | InternalError e) {
                // e.g. "Fontconfig head is null, check your fonts or fonts configuration"
                String m = e.getMessage();
                return Optional.of(m == null || m.isBlank() ? e.getClass().getSimpleName() : m);
            }
        }
    }
}
