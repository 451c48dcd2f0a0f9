package dev.cpt.ffi;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout.OfInt;
import java.lang.foreign.ValueLayout.OfLong;

/** {@code struct cpt_group_config} of cpt_torch.h: where and how one rank joins a process group. */
public final class cpt_group_config {
    private cpt_group_config() {}

    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            cpt_torch_h.C_POINTER.withName("master_address"),
            cpt_torch_h.C_INT.withName("master_port"),
            cpt_torch_h.C_INT.withName("rank"),
            cpt_torch_h.C_INT.withName("world_size"),
            cpt_torch_h.C_INT.withName("backend"),
            cpt_torch_h.C_INT.withName("threads"),
            MemoryLayout.paddingLayout(4),
            cpt_torch_h.C_LONG.withName("timeout_ms")
    ).withName("cpt_group_config");

    public static GroupLayout layout() {
        return $LAYOUT;
    }

    public static MemorySegment allocate(SegmentAllocator allocator) {
        return allocator.allocate($LAYOUT);
    }

    private static final AddressLayout master_address$LAYOUT = (AddressLayout) $LAYOUT.select(groupElement("master_address"));
    private static final long master_address$OFFSET = $LAYOUT.byteOffset(groupElement("master_address"));
    private static final OfInt master_port$LAYOUT = (OfInt) $LAYOUT.select(groupElement("master_port"));
    private static final long master_port$OFFSET = $LAYOUT.byteOffset(groupElement("master_port"));
    private static final OfInt rank$LAYOUT = (OfInt) $LAYOUT.select(groupElement("rank"));
    private static final long rank$OFFSET = $LAYOUT.byteOffset(groupElement("rank"));
    private static final OfInt world_size$LAYOUT = (OfInt) $LAYOUT.select(groupElement("world_size"));
    private static final long world_size$OFFSET = $LAYOUT.byteOffset(groupElement("world_size"));
    private static final OfInt backend$LAYOUT = (OfInt) $LAYOUT.select(groupElement("backend"));
    private static final long backend$OFFSET = $LAYOUT.byteOffset(groupElement("backend"));
    private static final OfInt threads$LAYOUT = (OfInt) $LAYOUT.select(groupElement("threads"));
    private static final long threads$OFFSET = $LAYOUT.byteOffset(groupElement("threads"));
    private static final OfLong timeout_ms$LAYOUT = (OfLong) $LAYOUT.select(groupElement("timeout_ms"));
    private static final long timeout_ms$OFFSET = $LAYOUT.byteOffset(groupElement("timeout_ms"));

    public static MemorySegment master_address(MemorySegment s) { return s.get(master_address$LAYOUT, master_address$OFFSET); }
    public static void master_address(MemorySegment s, MemorySegment v) { s.set(master_address$LAYOUT, master_address$OFFSET, v); }
    public static int master_port(MemorySegment s) { return s.get(master_port$LAYOUT, master_port$OFFSET); }
    public static void master_port(MemorySegment s, int v) { s.set(master_port$LAYOUT, master_port$OFFSET, v); }
    public static int rank(MemorySegment s) { return s.get(rank$LAYOUT, rank$OFFSET); }
    public static void rank(MemorySegment s, int v) { s.set(rank$LAYOUT, rank$OFFSET, v); }
    public static int world_size(MemorySegment s) { return s.get(world_size$LAYOUT, world_size$OFFSET); }
    public static void world_size(MemorySegment s, int v) { s.set(world_size$LAYOUT, world_size$OFFSET, v); }
    public static int backend(MemorySegment s) { return s.get(backend$LAYOUT, backend$OFFSET); }
    public static void backend(MemorySegment s, int v) { s.set(backend$LAYOUT, backend$OFFSET, v); }
    public static int threads(MemorySegment s) { return s.get(threads$LAYOUT, threads$OFFSET); }
    public static void threads(MemorySegment s, int v) { s.set(threads$LAYOUT, threads$OFFSET, v); }
    public static long timeout_ms(MemorySegment s) { return s.get(timeout_ms$LAYOUT, timeout_ms$OFFSET); }
    public static void timeout_ms(MemorySegment s, long v) { s.set(timeout_ms$LAYOUT, timeout_ms$OFFSET, v); }
}
