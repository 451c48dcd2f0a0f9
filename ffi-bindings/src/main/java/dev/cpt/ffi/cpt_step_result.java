package dev.cpt.ffi;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout.OfDouble;

/** {@code struct cpt_step_result} of cpt_torch.h. */
public final class cpt_step_result {
    private cpt_step_result() {}

    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            cpt_torch_h.C_DOUBLE.withName("loss"),
            cpt_torch_h.C_DOUBLE.withName("grad_norm")
    ).withName("cpt_step_result");

    public static GroupLayout layout() {
        return $LAYOUT;
    }

    public static MemorySegment allocate(SegmentAllocator allocator) {
        return allocator.allocate($LAYOUT);
    }

    private static final OfDouble loss$LAYOUT = (OfDouble) $LAYOUT.select(groupElement("loss"));
    private static final long loss$OFFSET = $LAYOUT.byteOffset(groupElement("loss"));
    private static final OfDouble grad_norm$LAYOUT = (OfDouble) $LAYOUT.select(groupElement("grad_norm"));
    private static final long grad_norm$OFFSET = $LAYOUT.byteOffset(groupElement("grad_norm"));

    public static double loss(MemorySegment s) { return s.get(loss$LAYOUT, loss$OFFSET); }
    public static void loss(MemorySegment s, double v) { s.set(loss$LAYOUT, loss$OFFSET, v); }
    public static double grad_norm(MemorySegment s) { return s.get(grad_norm$LAYOUT, grad_norm$OFFSET); }
    public static void grad_norm(MemorySegment s, double v) { s.set(grad_norm$LAYOUT, grad_norm$OFFSET, v); }
}
