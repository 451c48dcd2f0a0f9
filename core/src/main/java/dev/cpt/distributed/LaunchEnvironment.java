package dev.cpt.distributed;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where this process sits in a multi-rank run, read from the variables the launchers users already
 * have set: torchrun's ({@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK},
 * {@code LOCAL_WORLD_SIZE}, {@code MASTER_ADDR}, {@code MASTER_PORT}, which {@code cpt train --nproc}
 * sets too) or SLURM's ({@code SLURM_PROCID}, {@code SLURM_NTASKS}, {@code SLURM_LOCALID},
 * {@code SLURM_NTASKS_PER_NODE}, {@code SLURM_NODELIST}; the master is the node list's first host
 * and the port {@code MASTER_PORT}, else one derived from {@code SLURM_JOB_ID}). torchrun's win when
 * both are set, as torchrun started under srun sets its own. With neither, the run is one process.
 */
public record LaunchEnvironment(String launcher, int rank, int worldSize, int localRank, int localWorldSize,
                                String masterAddress, int masterPort) {

    /** Ports derived from a SLURM job id fall in [BASE_PORT, BASE_PORT + PORT_RANGE): unprivileged, below Linux's ephemeral range. */
    static final int BASE_PORT = 12000, PORT_RANGE = 20000;

    public LaunchEnvironment {
        if (worldSize < 1) throw new IllegalArgumentException("the world size must be at least 1, not " + worldSize);
        if (rank < 0 || rank >= worldSize) throw new IllegalArgumentException("rank " + rank + " is outside the world of " + worldSize);
        if (localWorldSize < 1 || localRank < 0 || localRank >= localWorldSize) {
            throw new IllegalArgumentException("local rank " + localRank + " is outside the " + localWorldSize + " ranks of its machine");
        }
        if (masterPort < 1 || masterPort > 65535) throw new IllegalArgumentException("the master port must be in 1..65535, not " + masterPort);
    }

    public boolean isDistributed() {
        return worldSize > 1;
    }

    public boolean isRankZero() {
        return rank == 0;
    }

    public static Optional<LaunchEnvironment> fromSystem() {
        return from(System.getenv());
    }

    /**
     * The environment's launch, or empty when no launcher set one.
     *
     * @throws IllegalArgumentException naming the variable that is missing or malformed
     */
    public static Optional<LaunchEnvironment> from(Map<String, String> env) {
        if (env.containsKey("RANK") || env.containsKey("WORLD_SIZE")) {
            int world = integer(env, "WORLD_SIZE", null);
            int rank = integer(env, "RANK", null);
            int localWorld = integer(env, "LOCAL_WORLD_SIZE", world);
            int local = integer(env, "LOCAL_RANK", rank % localWorld);
            String addr = world > 1 ? required(env, "MASTER_ADDR") : env.getOrDefault("MASTER_ADDR", "127.0.0.1");
            int port = world > 1 ? integer(env, "MASTER_PORT", null) : integer(env, "MASTER_PORT", 29500);
            return Optional.of(new LaunchEnvironment("torchrun", rank, world, local, localWorld, addr, port));
        }
        if (env.containsKey("SLURM_PROCID")) {
            int world = integer(env, "SLURM_NTASKS", null);
            int rank = integer(env, "SLURM_PROCID", null);
            int localWorld = tasksPerNode(env, world);
            int local = integer(env, "SLURM_LOCALID", rank % localWorld);
            List<String> hosts = hosts(required(env, "SLURM_NODELIST"));
            int port;
            if (env.containsKey("MASTER_PORT")) {
                port = integer(env, "MASTER_PORT", null);
            } else {
                long job = integer(env, "SLURM_JOB_ID", null);
                port = (int) (BASE_PORT + job % PORT_RANGE);
            }
            return Optional.of(new LaunchEnvironment("slurm", rank, world, local, localWorld, hosts.getFirst(), port));
        }
        return Optional.empty();
    }

    /** {@code SLURM_NTASKS_PER_NODE} is "4" or "4(x2)" or "4(x2),2"; the first node's count is this machine's under a uniform layout. */
    private static int tasksPerNode(Map<String, String> env, int world) {
        String v = env.get("SLURM_NTASKS_PER_NODE");
        if (v == null) return world;
        String first = v.split(",")[0].replaceAll("\\(x\\d+\\)$", "");
        try {
            return Integer.parseInt(first.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("SLURM_NTASKS_PER_NODE=\"" + v + "\" is not a task count such as 4 or 4(x2)");
        }
    }

    /**
     * The hosts of a SLURM host list, in order: {@code gpu[01-03,07],login2} is gpu01, gpu02, gpu03,
     * gpu07, login2; ranges keep their zero padding.
     */
    public static List<String> hosts(String list) {
        List<String> hosts = new ArrayList<>();
        int i = 0;
        while (i < list.length()) {
            int comma = i, depth = 0;
            while (comma < list.length() && (list.charAt(comma) != ',' || depth > 0)) {
                if (list.charAt(comma) == '[') depth++;
                if (list.charAt(comma) == ']') depth--;
                comma++;
            }
            String item = list.substring(i, comma).trim();
            if (!item.isEmpty()) expand(item, hosts, list);
            i = comma + 1;
        }
        if (hosts.isEmpty()) throw new IllegalArgumentException("SLURM_NODELIST=\"" + list + "\" names no host");
        return hosts;
    }

    private static void expand(String item, List<String> out, String list) {
        int open = item.indexOf('[');
        if (open < 0) {
            out.add(item);
            return;
        }
        int close = item.indexOf(']', open);
        if (close < 0) throw new IllegalArgumentException("SLURM_NODELIST=\"" + list + "\": \"" + item + "\" has no closing ]");
        String prefix = item.substring(0, open), suffix = item.substring(close + 1);
        for (String part : item.substring(open + 1, close).split(",")) {
            String[] range = part.split("-");
            try {
                if (range.length == 1) {
                    expand(prefix + range[0] + suffix, out, list);
                } else if (range.length == 2) {
                    int lo = Integer.parseInt(range[0]), hi = Integer.parseInt(range[1]);
                    if (hi < lo) throw new NumberFormatException();
                    for (int n = lo; n <= hi; n++) {
                        expand(prefix + String.format("%0" + range[0].length() + "d", n) + suffix, out, list);
                    }
                } else {
                    throw new NumberFormatException();
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("SLURM_NODELIST=\"" + list + "\": \"" + part + "\" is not a number or a range a-b");
            }
        }
    }

    private static String required(Map<String, String> env, String name) {
        String v = env.get(name);
        if (v == null || v.isBlank()) throw new IllegalArgumentException(name + " is not set (needed for a multi-rank run)");
        return v.trim();
    }

    private static int integer(Map<String, String> env, String name, Integer fallback) {
        String v = env.get(name);
        if (v == null || v.isBlank()) {
            if (fallback == null) throw new IllegalArgumentException(name + " is not set (needed for a multi-rank run)");
            return fallback;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + "=\"" + v + "\" is not a whole number");
        }
    }
}
