package dev.cpt.spec;

/**
 * How the run is spread over ranks when it trains on several (torch engine; {@code cpt train
 * --nproc}, torchrun or SLURM): {@code zero} is the ZeRO stage, 0 data parallel (gradients
 * all-reduced), 1 AdamW moments sharded across ranks, 2 gradients reduce-scattered too, 3
 * parameters sharded as well. It changes memory and communication, never the losses: the global
 * batch is {@code batch.sequences} at every world size. {@code cpt plan} reads it too. Absent, the
 * stage is 0.
 */
public record ParallelSpec(Integer zero) {

    public int zeroStage() {
        return zero == null ? 0 : zero;
    }

    public void validate(String path, Problems p) {
        if (zero != null && (zero < 0 || zero > 3)) {
            p.add(Problems.child(path, "zero"), "is " + zero + "; the ZeRO stages are 0, 1, 2 and 3");
        }
    }
}
