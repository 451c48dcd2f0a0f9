package dev.cpt.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cpt.data.Batch;
import dev.cpt.spec.ModelSpec;
import dev.cpt.spec.OptimizerSpec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The same steps give the same bits whether the kernels run interpreted (the Vector API's Java
 * fallback) or compiled by C2 (intrinsics): the premise of bit-identical resumes in a fresh JVM.
 * A child JVM runs {@link #main} with {@code -Xint}; this JVM runs it after warming the kernels up.
 */
class JitIndependenceTest {
    static final ModelSpec.Shape SHAPE = new ModelSpec.Shape("gpt2", 1, 32, 2, 20, 40);

    /** Trains two steps from the seed and prints the losses' and the parameters' bits. */
    public static void main(String[] args) {
        System.out.println(fingerprint());
    }

    static String fingerprint() {
        Batch b = new Batch(2, 19); // T 19: whole, masked and scalar vectors in attention
        for (int i = 0; i < b.tokens().length; i++) b.tokens()[i] = (i * 7 + 3) % SHAPE.vocabSize();
        StringBuilder out = new StringBuilder();
        try (SimEngine e = new SimEngine(SHAPE, new OptimizerSpec(0.9, 0.95, 1e-8, 1.0), 3, 19, 1)) {
            for (int s = 0; s < 2; s++) out.append(Long.toHexString(Double.doubleToLongBits(e.trainStep(b, 1e-2, 0.1).loss()))).append(' ');
            out.append(Long.toHexString(Double.doubleToLongBits(e.evalLoss(b)))).append(' ');
            out.append(Integer.toHexString(java.util.Arrays.hashCode(e.model().params())));
        }
        return out.toString();
    }

    @Test
    void interpretedAndCompiledKernelsGiveTheSameBits() throws Exception {
        for (int i = 0; i < 600; i++) fingerprint(); // until C2 has compiled the kernels
        String compiled = fingerprint();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var r = TorchParityTest.run(List.of(java, "-Xint", "--add-modules", "jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), JitIndependenceTest.class.getName()), null);
        assertThat(r.exit()).as(r.output()).isZero();
        String interpreted = r.output().lines().filter(l -> !l.startsWith("WARNING")).reduce("", (a, l) -> a + l).strip();
        System.out.println("interpreted: " + interpreted + " / compiled: " + compiled);
        assertThat(interpreted).isEqualTo(compiled);
    }
}
