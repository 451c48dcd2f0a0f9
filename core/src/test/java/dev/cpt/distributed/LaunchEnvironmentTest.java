package dev.cpt.distributed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cpt.data.Batch;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LaunchEnvironmentTest {

    @Test
    void torchrunsVariables() {
        var e = LaunchEnvironment.from(Map.of("RANK", "5", "WORLD_SIZE", "16", "LOCAL_RANK", "1", "LOCAL_WORLD_SIZE", "4",
                "MASTER_ADDR", "node07", "MASTER_PORT", "29500")).orElseThrow();
        assertThat(e).isEqualTo(new LaunchEnvironment("torchrun", 5, 16, 1, 4, "node07", 29500));
        assertThat(e.isDistributed()).isTrue();
        assertThat(e.isRankZero()).isFalse();
    }

    @Test
    void slurmsVariablesWithTheFirstHostAsMaster() {
        var e = LaunchEnvironment.from(Map.of("SLURM_PROCID", "9", "SLURM_NTASKS", "16", "SLURM_LOCALID", "1",
                "SLURM_NTASKS_PER_NODE", "8(x2)", "SLURM_NODELIST", "gpu[007-008]", "SLURM_JOB_ID", "123456")).orElseThrow();
        assertThat(e.launcher()).isEqualTo("slurm");
        assertThat(e.rank()).isEqualTo(9);
        assertThat(e.localWorldSize()).isEqualTo(8);
        assertThat(e.masterAddress()).isEqualTo("gpu007");
        // no MASTER_PORT: one from the job id, the same on every rank of the job
        assertThat(e.masterPort()).isEqualTo(12000 + 123456 % 20000);
        var withPort = LaunchEnvironment.from(Map.of("SLURM_PROCID", "0", "SLURM_NTASKS", "2", "SLURM_NODELIST", "a,b",
                "MASTER_PORT", "40000")).orElseThrow();
        assertThat(withPort.masterPort()).isEqualTo(40000);
        assertThat(withPort.masterAddress()).isEqualTo("a");
        assertThat(withPort.localRank()).isZero();
    }

    @Test
    void torchrunUnderSrunWinsAndNoLauncherIsOneProcess() {
        var e = LaunchEnvironment.from(Map.of("RANK", "0", "WORLD_SIZE", "1", "SLURM_PROCID", "3", "SLURM_NTASKS", "4",
                "SLURM_NODELIST", "n1")).orElseThrow();
        assertThat(e.launcher()).isEqualTo("torchrun");
        assertThat(e.isDistributed()).isFalse();
        assertThat(LaunchEnvironment.from(Map.of("HOME", "/root"))).isEmpty();
    }

    @Test
    void hostListsExpandAsSlurmWritesThem() {
        assertThat(LaunchEnvironment.hosts("gpu[01-03,07],login2")).containsExactly("gpu01", "gpu02", "gpu03", "gpu07", "login2");
        assertThat(LaunchEnvironment.hosts("n[8-10]")).containsExactly("n8", "n9", "n10");
        assertThat(LaunchEnvironment.hosts("rack[1-2]-gpu[1-2]")).containsExactly("rack1-gpu1", "rack1-gpu2", "rack2-gpu1", "rack2-gpu2");
        assertThatThrownBy(() -> LaunchEnvironment.hosts("gpu[01-03")).hasMessageContaining("no closing ]");
        assertThatThrownBy(() -> LaunchEnvironment.hosts("gpu[3-1]")).hasMessageContaining("\"3-1\" is not a number or a range");
    }

    @Test
    void missingAndMalformedVariablesAreNamed() {
        assertThatThrownBy(() -> LaunchEnvironment.from(Map.of("RANK", "1", "WORLD_SIZE", "2", "MASTER_PORT", "1")))
                .hasMessageContaining("MASTER_ADDR is not set");
        assertThatThrownBy(() -> LaunchEnvironment.from(Map.of("RANK", "x", "WORLD_SIZE", "2")))
                .hasMessageContaining("RANK=\"x\" is not a whole number");
        assertThatThrownBy(() -> LaunchEnvironment.from(Map.of("RANK", "2", "WORLD_SIZE", "2", "MASTER_ADDR", "h", "MASTER_PORT", "1")))
                .hasMessageContaining("rank 2 is outside the world of 2");
        assertThatThrownBy(() -> LaunchEnvironment.from(Map.of("SLURM_PROCID", "0", "SLURM_NTASKS", "2", "SLURM_NODELIST", "a")))
                .hasMessageContaining("SLURM_JOB_ID is not set");
    }

    @Test
    void ranksSliceTheGlobalBatchIntoContiguousBlocks() {
        Batch global = new Batch(6, 3);
        for (int i = 0; i < global.tokens().length; i++) global.tokens()[i] = i;
        for (int r = 0; r < 6; r++) global.rowSources()[r] = "row" + r;
        RankSlice second = new RankSlice(1, 3);
        Batch local = second.newLocal(global);
        second.copy(global, local);
        assertThat(local.sequences()).isEqualTo(2);
        assertThat(local.tokens()).containsExactly(8, 9, 10, 11, 12, 13, 14, 15);
        assertThat(local.rowSources()).containsExactly("row2", "row3");
        // the ranks' rows, in rank order, are the global batch
        int[] joined = new int[global.tokens().length];
        for (int r = 0; r < 3; r++) {
            RankSlice s = new RankSlice(r, 3);
            Batch b = s.newLocal(global);
            s.copy(global, b);
            System.arraycopy(b.tokens(), 0, joined, s.firstRow(6) * 4, b.tokens().length);
        }
        assertThat(joined).isEqualTo(global.tokens());
        assertThatThrownBy(() -> new RankSlice(0, 4).rows(6)).hasMessageContaining("batch.sequences 6 does not divide among 4 ranks");
    }
}
