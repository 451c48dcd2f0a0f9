package dev.cpt.data.corpus;

import java.util.Locale;

/** The built-in corpora's data card as markdown ({@code README.md} beside the data). */
final class DataCardMarkdown {
    private DataCardMarkdown() {}

    static String render(BuiltinCorpora.Card c) {
        StringBuilder md = new StringBuilder();
        md.append("# Built-in corpora\n\n");
        md.append("Made by `cpt prepare --builtin` from ")
          .append(c.source().equals("debian") ? "Debian-packaged text" : "**synthetic** languages (the Debian corpora were not installed)")
          .append(", tokenizer `").append(c.tokenizer().id()).append("` (vocabulary ").append(c.tokenizer().vocabSize())
          .append("), seed ").append(c.seed()).append(".\n\n");
        md.append("| dataset | documents | train tokens | val tokens | what |\n|---|---:|---:|---:|---|\n");
        c.datasets().forEach((name, d) -> md.append(String.format(Locale.ROOT, "| `%s` | %,d | %,d | %,d | %s |\n",
                name, d.documents(), d.trainTokens(), d.valTokens(), d.description())));
        md.append("\n## Shift, measured\n\n");
        md.append("Unigram and bigram models fit to D0's training tokens; cross-entropy in nats per token on D0's and ")
          .append("D1's validation tokens; the *rise* is the difference. A model fit to D1 itself gives D1's own ")
          .append("cross-entropy; the *excess* of the D0 model over it estimates how far D1 lies from D0 ")
          .append("(a divergence: never negative, even where D1 is easier text than D0).\n\n");
        md.append("| pair | D0 → D1 | unigram on D0 | unigram on D1 | bigram on D0 | bigram on D1 | D1's own bigram | rise (bigram) | rise (unigram) | excess (bigram) |\n")
          .append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        c.pairs().forEach((name, p) -> md.append(String.format(Locale.ROOT,
                "| %s | `%s` → `%s` | %.3f | %.3f | %.3f | %.3f | %.3f | %+.3f | %+.3f | **%.3f** |\n", name, p.d0(), p.d1(),
                p.onD0().unigram(), p.onD1().unigram(), p.onD0().bigram(), p.onD1().bigram(), p.ownD1().bigram(),
                p.bigramShift(), p.unigramShift(), p.bigramExcess())));
        return md.toString();
    }
}
