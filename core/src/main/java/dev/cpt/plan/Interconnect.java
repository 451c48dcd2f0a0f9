package dev.cpt.plan;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The link a data-parallel collective runs at, as the bus bandwidth NCCL's tests report: the time
 * of an all-reduce of b bytes over N ranks is {@code 2(N−1)/N · b / bandwidth}, of a reduce-scatter
 * or all-gather {@code (N−1)/N · b / bandwidth}. A ring is as fast as its slowest hop, so a run on
 * several machines goes at the network's rate, one inside a machine at NVLink's. The presets are
 * nominal peaks per GPU and direction; NCCL reaches about 80% of them on large messages.
 *
 * @param name     a preset's name, or {@code N GB/s} for a given rate
 * @param bytesPerSecond bus bandwidth per GPU
 */
public record Interconnect(String name, double bytesPerSecond) {

    public Interconnect {
        if (!(bytesPerSecond > 0) || Double.isInfinite(bytesPerSecond)) {
            throw new IllegalArgumentException("interconnect bandwidth must be a positive number of GB/s, not " + bytesPerSecond / 1e9);
        }
    }

    /** Presets by name: what each means is in {@link #describe}. */
    public static final Map<String, Interconnect> PRESETS = new LinkedHashMap<>();
    private static final Map<String, String> WHAT = new LinkedHashMap<>();

    private static void preset(String name, double gbPerSecond, String what) {
        PRESETS.put(name, new Interconnect(name, gbPerSecond * 1e9));
        WHAT.put(name, what);
    }

    static {
        preset("nvlink4", 450, "NVLink 4 (H100 SXM): 900 GB/s both directions");
        preset("nvlink3", 300, "NVLink 3 (A100 SXM): 600 GB/s both directions");
        preset("ib-ndr", 50, "InfiniBand NDR, one 400 Gb/s NIC per GPU (DGX H100)");
        preset("ib-hdr", 25, "InfiniBand HDR, one 200 Gb/s NIC per GPU (DGX A100)");
        preset("pcie5", 64, "PCIe 5.0 x16, no NVLink");
        preset("pcie4", 32, "PCIe 4.0 x16, no NVLink");
        preset("eth-100g", 12.5, "100 Gb/s Ethernet per node, one GPU per NIC");
    }

    /** The preset a run on {@code gpus} GPUs with {@code gpusPerNode} a machine most likely has: NVLink inside one machine, NDR across. */
    public static Interconnect assumed(int gpus, int gpusPerNode) {
        return PRESETS.get(gpus <= gpusPerNode ? "nvlink4" : "ib-ndr");
    }

    /** A preset's name or a rate in GB/s ({@code 200}, {@code 200GB/s}). */
    public static Interconnect parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        Interconnect p = PRESETS.get(t);
        if (p != null) return p;
        String number = t.replaceAll("\\s*gb/s$", "");
        try {
            double gb = Double.parseDouble(number);
            return new Interconnect(trim(gb) + " GB/s", gb * 1e9);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("interconnect \"" + text + "\" is neither a preset (" + String.join(", ", PRESETS.keySet())
                    + ") nor a bandwidth in GB/s");
        }
    }

    public String describe() {
        String what = WHAT.get(name);
        return what == null ? name : name + ", " + trim(bytesPerSecond / 1e9) + " GB/s (" + what + ")";
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }
}
