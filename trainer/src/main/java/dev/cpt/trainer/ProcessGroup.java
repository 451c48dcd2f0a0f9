package dev.cpt.trainer;

import static dev.cpt.ffi.cpt_torch_h.*;

import dev.cpt.distributed.LaunchEnvironment;
import dev.cpt.ffi.NativeLibrary;
import dev.cpt.ffi.cpt_group_config;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;

/**
 * This process's membership of a c10d process group (native/distributed.h): libtorch's TCPStore
 * rendezvous at the launch's master address and port, then Gloo (CPU ranks) or NCCL (one GPU a
 * rank). Creating it blocks until every rank has joined, or fails after the timeout naming the
 * address; every collective after that fails within the same timeout when a peer dies or hangs.
 */
public final class ProcessGroup implements AutoCloseable {

    public enum Backend { GLOO, NCCL }

    /** How long a rendezvous or a collective may wait for the other ranks (PyTorch's default is 30 minutes). */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);

    private final Arena arena = Arena.ofShared();
    private final MemorySegment group;
    private final int rank, worldSize;
    private final Backend backend;
    private boolean closed;

    private ProcessGroup(LaunchEnvironment launch, Backend backend, int threads, Duration timeout) {
        NativeLibrary.load();
        this.rank = launch.rank();
        this.worldSize = launch.worldSize();
        this.backend = backend;
        if (backend == Backend.GLOO && cpt_gloo_available() != 1) {
            throw new NativeLibrary.UnavailableException("this build of " + NativeLibrary.FILE + " has no c10d Gloo backend, so it cannot "
                    + "train on several ranks: apt-get install libgloo-dev, then rebuild it (native/build.sh)", null);
        }
        if (backend == Backend.NCCL && cpt_nccl_available() != 1) {
            throw new NativeLibrary.UnavailableException("this build of " + NativeLibrary.FILE + " has no NCCL (it was built against "
                    + "libtorch " + TorchEngine.torchVersion() + " without CUDA): several GPUs need the shim built against a CUDA "
                    + "libtorch (../shared/GPU.md)", null);
        }
        MemorySegment config = cpt_group_config.allocate(arena);
        cpt_group_config.master_address(config, arena.allocateFrom(launch.masterAddress()));
        cpt_group_config.master_port(config, launch.masterPort());
        cpt_group_config.rank(config, launch.rank());
        cpt_group_config.world_size(config, launch.worldSize());
        cpt_group_config.backend(config, backend == Backend.NCCL ? CPT_BACKEND_NCCL() : CPT_BACKEND_GLOO());
        cpt_group_config.threads(config, Math.max(1, threads));
        cpt_group_config.timeout_ms(config, timeout.toMillis());
        MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
        check("cpt_group_create", cpt_group_create(config, out));
        group = out.get(ValueLayout.ADDRESS, 0);
    }

    /**
     * Joins the group of {@code launch} (rank 0 hosts the store). {@code threads} are Gloo's own
     * worker threads for its collectives.
     */
    public static ProcessGroup join(LaunchEnvironment launch, Backend backend, int threads, Duration timeout) {
        return new ProcessGroup(launch, backend, threads, timeout);
    }

    /** Whether the loaded shim can train on several CPU ranks (it was built with c10d's Gloo headers). */
    public static boolean glooAvailable() {
        NativeLibrary.load();
        return cpt_gloo_available() == 1;
    }

    public int rank() {
        return rank;
    }

    public int worldSize() {
        return worldSize;
    }

    public Backend backend() {
        return backend;
    }

    MemorySegment handle() {
        if (closed) throw new IllegalStateException("the process group is closed");
        return group;
    }

    /** Waits until every rank has reached this call. */
    public void barrier() {
        check("cpt_group_barrier", cpt_group_barrier(handle()));
    }

    /** Each value summed over the ranks (every rank gets the sums). */
    public double[] allReduceSum(double... values) {
        if (values.length == 0) return values;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocateFrom(ValueLayout.JAVA_DOUBLE, values);
            check("cpt_group_all_reduce_sum", cpt_group_all_reduce_sum(handle(), v, values.length));
            return v.toArray(ValueLayout.JAVA_DOUBLE);
        }
    }

    static void check(String call, int code) {
        if (code != CPT_OK()) {
            throw new NativeException(call, code, cpt_last_error().reinterpret(Integer.MAX_VALUE).getString(0));
        }
    }

    /** Leaves the group; models distributed over it keep their own reference until they are closed. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        cpt_group_destroy(group);
        arena.close();
    }
}
