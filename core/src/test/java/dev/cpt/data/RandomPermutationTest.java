package dev.cpt.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.BitSet;
import org.junit.jupiter.api.Test;

class RandomPermutationTest {

    @Test
    void isABijectionForEverySizeUpTo300() {
        for (int size = 1; size <= 300; size++) {
            RandomPermutation p = new RandomPermutation(size, 42 + size);
            BitSet seen = new BitSet(size);
            for (int i = 0; i < size; i++) {
                long v = p.apply(i);
                assertThat(v).isBetween(0L, size - 1L);
                assertThat(seen.get((int) v)).as("size %d: %d twice", size, v).isFalse();
                seen.set((int) v);
            }
        }
    }

    @Test
    void isABijectionOnALargerOddSize() {
        int size = 1_000_003;
        RandomPermutation p = new RandomPermutation(size, 7);
        BitSet seen = new BitSet(size);
        for (int i = 0; i < size; i++) seen.set((int) p.apply(i));
        assertThat(seen.cardinality()).isEqualTo(size);
    }

    @Test
    void dependsOnTheKeyAndShuffles() {
        RandomPermutation a = new RandomPermutation(1000, 1);
        RandomPermutation b = new RandomPermutation(1000, 2);
        int same = 0, fixed = 0;
        for (int i = 0; i < 1000; i++) {
            if (a.apply(i) == b.apply(i)) same++;
            if (a.apply(i) == i) fixed++;
        }
        // A random permutation agrees with another (or fixes a point) about once in 1000 draws.
        assertThat(same).isLessThan(10);
        assertThat(fixed).isLessThan(10);
    }

    @Test
    void rejectsPositionsOutsideTheRange() {
        RandomPermutation p = new RandomPermutation(10, 1);
        assertThatThrownBy(() -> p.apply(10)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> new RandomPermutation(0, 1)).isInstanceOf(IllegalArgumentException.class);
    }
}
