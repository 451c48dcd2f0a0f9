package dev.cpt.data.prepare;

import dev.cpt.data.shard.TokenizerInfo;
import java.util.List;
import java.util.Map;

/**
 * What {@link Prepare#run} did; also written to {@code OUT/prepare.json}.
 *
 * @param out the output directory
 * @param inputs the inputs as given
 * @param files how many files were read
 * @param inputBytes their size on disk (compressed size for compressed files)
 * @param train all training shards together
 * @param val all validation shards together (zero when {@code valFraction} is 0)
 * @param domains per domain, with the directory under {@code out} holding its shards; null unless split by domain
 * @param badLinesSkipped JSON Lines lines skipped as bad ({@code skipBadLines})
 * @param emptyDocumentsSkipped documents with no tokens, not written
 * @param skippedFiles files inside input directories that were not read (binary files)
 * @param warnings anything worth a look: an empty validation split, the first bad lines skipped
 * @param seconds wall time of the run
 * @param mbPerSecond text read, in MB (10^6 bytes of UTF-8) per second
 * @param tokensPerSecond tokens written per second
 */
public record PrepareReport(String out, List<String> inputs, int files, long inputBytes, TokenizerInfo tokenizer,
                            double valFraction, long seed, int jobs, String documentSeparator, boolean splitByDomain,
                            SplitStats train, SplitStats val, Map<String, DomainStats> domains,
                            long badLinesSkipped, long emptyDocumentsSkipped, List<String> skippedFiles,
                            List<String> warnings, double seconds, double mbPerSecond, double tokensPerSecond) {

    /**
     * One split's counts.
     *
     * @param documents documents written
     * @param tokens tokens written, one end-of-text separator per document included
     * @param bytes UTF-8 bytes of the documents' text
     */
    public record SplitStats(long documents, long tokens, long bytes) {
        public static final SplitStats ZERO = new SplitStats(0, 0, 0);

        SplitStats plus(SplitStats o) {
            return new SplitStats(documents + o.documents, tokens + o.tokens, bytes + o.bytes);
        }
    }

    /** One domain's shards: {@code out/directory/train.bin} and {@code val.bin}. */
    public record DomainStats(String directory, SplitStats train, SplitStats val) {}
}
