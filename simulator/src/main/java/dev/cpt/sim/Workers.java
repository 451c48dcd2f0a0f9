package dev.cpt.sim;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A small pool of threads that splits a range of work items into one contiguous part per
 * thread. The split depends only on the range, the grain and the thread count, and every kernel
 * gives each output element to exactly one part, so no two threads ever add into the same float:
 * results do not depend on timing. The caller's thread runs part 0.
 *
 * <p>Workers spin briefly before parking because a training step runs many short parallel
 * regions back to back; waking a parked thread for each costs more than the regions themselves.
 *
 * <p>How many threads take part can change between calls ({@link #setThreads}): a sweep gives a
 * run the cores its finished neighbours left. Since the split only decides which thread computes
 * an element, never how, the numbers stay the same.
 *
 * <p>Not reentrant and not for concurrent callers: one engine, one calling thread.
 */
public final class Workers implements AutoCloseable {

    /** One part of the work: items {@code [from, to)}, run by worker {@code worker} (0 = the caller). */
    @FunctionalInterface
    public interface Task {
        void run(int worker, int from, int to);
    }

    private static final int SPINS = 1 << 14;

    /** The threads taking part in each call (the caller and {@code threads - 1} of the pool). */
    private volatile int threads;
    /** The pool's threads, started as they are first needed; index i runs part i + 1. */
    private Thread[] pool;
    private final AtomicInteger generation = new AtomicInteger();
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Task task;
    private volatile int items;
    private volatile int grain;
    private volatile Thread caller;
    private volatile Throwable failure;
    private volatile boolean closed;
    private float[][] scratch;

    public Workers(int threads) {
        this.pool = new Thread[0];
        this.scratch = new float[0][];
        setThreads(threads);
    }

    public int threads() {
        return threads;
    }

    /**
     * From the next {@link #run} on, computes on {@code threads} threads: the pool grows when it
     * must; threads no longer taking part park until they are needed again. Call it from the thread
     * that calls {@link #run}, between calls.
     */
    public void setThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, not " + threads);
        if (threads > scratch.length) {
            float[][] grown = java.util.Arrays.copyOf(scratch, threads);
            for (int i = scratch.length; i < threads; i++) grown[i] = new float[0];
            scratch = grown;
        }
        this.threads = threads;
        for (int i = pool.length + 1; i < threads; i++) {
            int id = i;
            Thread t = new Thread(() -> loop(id), "cpt-sim-worker-" + id);
            t.setDaemon(true);
            pool = java.util.Arrays.copyOf(pool, i);
            pool[i - 1] = t;
            t.start();
        }
    }

    /**
     * Runs {@code task} over {@code [0, items)}, split into at most {@link #threads()} contiguous
     * parts whose boundaries are multiples of {@code grain}; returns when every part is done.
     */
    public void run(int items, int grain, Task task) {
        if (items <= 0) return;
        int n = threads;
        if (n == 1 || items <= grain) {
            task.run(0, 0, items);
            return;
        }
        this.task = task;
        this.items = items;
        this.grain = grain;
        this.caller = Thread.currentThread();
        this.failure = null;
        pending.set(n - 1);
        generation.incrementAndGet();
        for (int i = 0; i < n - 1; i++) LockSupport.unpark(pool[i]);
        Throwable own = null;
        try {
            runPart(0);
        } catch (Throwable e) {
            own = e;
        }
        int spins = 0;
        while (pending.get() != 0) {
            if (++spins < SPINS) Thread.onSpinWait();
            else LockSupport.park(this);
        }
        this.task = null;
        Throwable f = own != null ? own : failure;
        if (f instanceof RuntimeException r) throw r;
        if (f instanceof Error e) throw e;
        if (f != null) throw new IllegalStateException(f);
    }

    private void runPart(int part) {
        int n = items;
        int g = grain;
        int units = (n + g - 1) / g;
        int u0 = (int) ((long) units * part / threads);
        int u1 = (int) ((long) units * (part + 1) / threads);
        int from = u0 * g;
        int to = Math.min(n, u1 * g);
        if (from < to) task.run(part, from, to);
    }

    private void loop(int id) {
        int seen = 0;
        while (true) {
            int g;
            int spins = 0;
            while ((g = generation.get()) == seen && !closed) {
                if (++spins < SPINS) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            if (closed) return;
            seen = g;
            if (id >= threads) {
                // Not taking part: sleep until a call that needs this thread unparks it (spinning
                // here would take a core from the runs that now have it).
                LockSupport.park(this);
                continue;
            }
            try {
                runPart(id);
            } catch (Throwable e) {
                failure = e;
            }
            if (pending.decrementAndGet() == 0) LockSupport.unpark(caller);
        }
    }

    /**
     * Worker {@code worker}'s own scratch array of at least {@code size} floats, kept between calls
     * (it grows on first use of a larger size, so steady-state steps allocate nothing).
     */
    float[] scratch(int worker, int size) {
        if (scratch[worker].length < size) scratch[worker] = new float[size];
        return scratch[worker];
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : pool) LockSupport.unpark(t);
    }
}
