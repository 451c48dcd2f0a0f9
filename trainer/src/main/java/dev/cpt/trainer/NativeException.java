package dev.cpt.trainer;

/** An error the native library reported: its code (cpt_torch.h's CPT_ERR_*) and its message. */
public final class NativeException extends RuntimeException {
    private final int code;

    public NativeException(String call, int code, String message) {
        super("libtorch: " + call + " failed: " + message + " (" + codeName(code) + ")");
        this.code = code;
    }

    public int code() {
        return code;
    }

    static String codeName(int code) {
        return switch (code) {
            case 1 -> "CPT_ERR_ARGUMENT";
            case 2 -> "CPT_ERR_DEVICE";
            case 3 -> "CPT_ERR_IO";
            case 4 -> "CPT_ERR_TORCH";
            case 5 -> "CPT_ERR_INTERNAL";
            case 6 -> "CPT_ERR_DISTRIBUTED";
            default -> "code " + code;
        };
    }
}
