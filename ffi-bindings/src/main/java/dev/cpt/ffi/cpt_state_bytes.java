package dev.cpt.ffi;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout.OfLong;

/** {@code struct cpt_state_bytes} of cpt_torch.h: what a rank's model state holds, by kind. */
public final class cpt_state_bytes {
    private cpt_state_bytes() {}

    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            cpt_torch_h.C_LONG.withName("weights"),
            cpt_torch_h.C_LONG.withName("gradients"),
            cpt_torch_h.C_LONG.withName("optimizer")
    ).withName("cpt_state_bytes");

    public static GroupLayout layout() {
        return $LAYOUT;
    }

    public static MemorySegment allocate(SegmentAllocator allocator) {
        return allocator.allocate($LAYOUT);
    }

    private static final OfLong weights$LAYOUT = (OfLong) $LAYOUT.select(groupElement("weights"));
    private static final long weights$OFFSET = $LAYOUT.byteOffset(groupElement("weights"));
    private static final OfLong gradients$LAYOUT = (OfLong) $LAYOUT.select(groupElement("gradients"));
    private static final long gradients$OFFSET = $LAYOUT.byteOffset(groupElement("gradients"));
    private static final OfLong optimizer$LAYOUT = (OfLong) $LAYOUT.select(groupElement("optimizer"));
    private static final long optimizer$OFFSET = $LAYOUT.byteOffset(groupElement("optimizer"));

    public static long weights(MemorySegment s) { return s.get(weights$LAYOUT, weights$OFFSET); }
    public static void weights(MemorySegment s, long v) { s.set(weights$LAYOUT, weights$OFFSET, v); }
    public static long gradients(MemorySegment s) { return s.get(gradients$LAYOUT, gradients$OFFSET); }
    public static void gradients(MemorySegment s, long v) { s.set(gradients$LAYOUT, gradients$OFFSET, v); }
    public static long optimizer(MemorySegment s) { return s.get(optimizer$LAYOUT, optimizer$OFFSET); }
    public static void optimizer(MemorySegment s, long v) { s.set(optimizer$LAYOUT, optimizer$OFFSET, v); }
}
