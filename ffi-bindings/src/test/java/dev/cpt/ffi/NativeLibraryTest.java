package dev.cpt.ffi;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class NativeLibraryTest {

    @Test
    void aMissingLibrarySaysHowToGetIt() {
        assertThatThrownBy(() -> NativeLibrary.open(Path.of("/nonexistent/libcpt_torch.so")))
                .isInstanceOf(NativeLibrary.UnavailableException.class)
                .hasMessageContaining("/nonexistent/libcpt_torch.so")
                .hasMessageContaining("apt-get install libtorch-dev")
                .hasMessageContaining("CPT_NATIVE_LIB");
    }
}
