package dev.cpt.ffi;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout.OfLong;

/** {@code struct cpt_memory_stats} of cpt_torch.h. */
public final class cpt_memory_stats {
    private cpt_memory_stats() {}

    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            cpt_torch_h.C_LONG.withName("allocated_bytes"),
            cpt_torch_h.C_LONG.withName("peak_allocated_bytes"),
            cpt_torch_h.C_LONG.withName("reserved_bytes")
    ).withName("cpt_memory_stats");

    public static GroupLayout layout() {
        return $LAYOUT;
    }

    public static MemorySegment allocate(SegmentAllocator allocator) {
        return allocator.allocate($LAYOUT);
    }

    private static final OfLong allocated_bytes$LAYOUT = (OfLong) $LAYOUT.select(groupElement("allocated_bytes"));
    private static final long allocated_bytes$OFFSET = $LAYOUT.byteOffset(groupElement("allocated_bytes"));
    private static final OfLong peak_allocated_bytes$LAYOUT = (OfLong) $LAYOUT.select(groupElement("peak_allocated_bytes"));
    private static final long peak_allocated_bytes$OFFSET = $LAYOUT.byteOffset(groupElement("peak_allocated_bytes"));
    private static final OfLong reserved_bytes$LAYOUT = (OfLong) $LAYOUT.select(groupElement("reserved_bytes"));
    private static final long reserved_bytes$OFFSET = $LAYOUT.byteOffset(groupElement("reserved_bytes"));

    public static long allocated_bytes(MemorySegment s) { return s.get(allocated_bytes$LAYOUT, allocated_bytes$OFFSET); }
    public static void allocated_bytes(MemorySegment s, long v) { s.set(allocated_bytes$LAYOUT, allocated_bytes$OFFSET, v); }
    public static long peak_allocated_bytes(MemorySegment s) { return s.get(peak_allocated_bytes$LAYOUT, peak_allocated_bytes$OFFSET); }
    public static void peak_allocated_bytes(MemorySegment s, long v) { s.set(peak_allocated_bytes$LAYOUT, peak_allocated_bytes$OFFSET, v); }
    public static long reserved_bytes(MemorySegment s) { return s.get(reserved_bytes$LAYOUT, reserved_bytes$OFFSET); }
    public static void reserved_bytes(MemorySegment s, long v) { s.set(reserved_bytes$LAYOUT, reserved_bytes$OFFSET, v); }
}
