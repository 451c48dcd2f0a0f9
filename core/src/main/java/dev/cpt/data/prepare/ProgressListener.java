package dev.cpt.data.prepare;

/**
 * Told how far data preparation has got, in bytes of input as they lie on disk (compressed
 * bytes for {@code .gz} and {@code .zst} files), so that a progress bar can show it. Called after
 * each batch of documents is written, from prepare's writer thread (one thread, never two calls at
 * once), and a last time with {@code bytesDone == bytesTotal} from the thread running
 * {@link Prepare#run}; an exception it throws stops the run.
 */
@FunctionalInterface
public interface ProgressListener {

    ProgressListener NONE = (done, total) -> {};

    void progress(long bytesDone, long bytesTotal);
}
