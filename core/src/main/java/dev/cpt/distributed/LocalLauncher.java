package dev.cpt.distributed;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code cpt train --nproc N}: starts N ranks of the same command on this machine, with the
 * variables torchrun would set ({@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK},
 * {@code LOCAL_WORLD_SIZE}, {@code MASTER_ADDR}, {@code MASTER_PORT}), and supervises them. Rank 0
 * keeps this terminal; the others write to {@code rank-R.log} in a log directory. When a rank
 * fails, every other rank is stopped (SIGTERM, then SIGKILL after a grace period) and the launcher
 * names the first rank that failed, its exit code and its log's last lines; Ctrl-C (or any exit of
 * this JVM) stops every rank too. No process is left running.
 */
public final class LocalLauncher {

    /** How long a stopped rank has to exit before it is killed. */
    static final Duration GRACE = Duration.ofSeconds(10);

    private final List<String> command;
    private final int ranks;
    private final Path logs;
    private final PrintWriter err;

    /**
     * @param command the command every rank runs (the same JVM and arguments, less {@code --nproc})
     * @param logs where ranks 1.. write their output
     */
    public LocalLauncher(List<String> command, int ranks, Path logs, PrintWriter err) {
        if (ranks < 2) throw new IllegalArgumentException("--nproc must be at least 2 to launch ranks, not " + ranks);
        this.command = List.copyOf(command);
        this.ranks = ranks;
        this.logs = logs;
        this.err = err;
    }

    public Path log(int rank) {
        return logs.resolve("rank-" + rank + ".log");
    }

    /** A free TCP port on the loopback interface for rank 0's store. */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Starts the ranks, waits for all of them, and returns 0 or the exit code of the first rank that failed. */
    public int run() throws IOException, InterruptedException {
        Files.createDirectories(logs);
        int port = freePort();
        List<Process> processes = new ArrayList<>();
        Thread stopAll = new Thread(() -> stop(processes), "cpt-stop-ranks");
        Runtime.getRuntime().addShutdownHook(stopAll);
        try {
            for (int r = 0; r < ranks; r++) {
                ProcessBuilder pb = new ProcessBuilder(command);
                Map<String, String> env = pb.environment();
                env.put("RANK", Integer.toString(r));
                env.put("WORLD_SIZE", Integer.toString(ranks));
                env.put("LOCAL_RANK", Integer.toString(r));
                env.put("LOCAL_WORLD_SIZE", Integer.toString(ranks));
                env.put("MASTER_ADDR", "127.0.0.1");
                env.put("MASTER_PORT", Integer.toString(port));
                if (r == 0) {
                    pb.inheritIO();
                } else {
                    pb.redirectInput(ProcessBuilder.Redirect.from(nullFile()));
                    pb.redirectErrorStream(true).redirectOutput(log(r).toFile());
                }
                synchronized (processes) {
                    processes.add(pb.start());
                }
            }
            err.println("cpt: started " + ranks + " ranks on 127.0.0.1:" + port + " (ranks 1.." + (ranks - 1) + " log to " + logs + ")");
            err.flush();
            return supervise(processes);
        } finally {
            stop(processes);
            try {
                Runtime.getRuntime().removeShutdownHook(stopAll);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it stops the ranks
            }
        }
    }

    /**
     * Waits for the ranks in the order they exit: the first to exit non-zero is the one named (the
     * others usually fail after it, when their collectives lose it), and the rest are stopped.
     */
    private int supervise(List<Process> processes) throws InterruptedException {
        java.util.concurrent.BlockingQueue<Integer> exits = new java.util.concurrent.LinkedBlockingQueue<>();
        for (int r = 0; r < processes.size(); r++) {
            int rank = r;
            processes.get(r).onExit().thenRun(() -> exits.add(rank));
        }
        for (int done = 0; done < processes.size(); done++) {
            int r = exits.take();
            int code = processes.get(r).exitValue();
            if (code != 0) {
                stop(processes);
                err.println("cpt: rank " + r + " of " + ranks + " failed first (exit code " + code + describe(code)
                        + "); every other rank was stopped." + (r == 0 ? "" : lastLines(r)));
                err.flush();
                return code;
            }
        }
        return 0;
    }

    private static String describe(int code) {
        return code > 128 ? ", signal " + (code - 128) : "";
    }

    private String lastLines(int rank) {
        try {
            List<String> lines = Files.readAllLines(log(rank));
            List<String> tail = lines.subList(Math.max(0, lines.size() - 12), lines.size());
            return "\n  " + log(rank) + ", last lines:\n    " + String.join("\n    ", tail);
        } catch (IOException e) {
            return " See " + log(rank) + ".";
        }
    }

    /** SIGTERM to every live rank, then SIGKILL to any still alive after the grace period. */
    static void stop(List<Process> processes) {
        List<Process> live;
        synchronized (processes) {
            live = processes.stream().filter(Process::isAlive).toList();
        }
        for (Process p : live) p.destroy();
        long deadline = System.nanoTime() + GRACE.toNanos();
        for (Process p : live) {
            try {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !p.waitFor(left, java.util.concurrent.TimeUnit.NANOSECONDS)) p.destroyForcibly().waitFor();
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    private static java.io.File nullFile() {
        return new java.io.File("/dev/null");
    }
}
