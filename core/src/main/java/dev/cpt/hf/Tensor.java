package dev.cpt.hf;

import java.util.Arrays;

/** A named checkpoint's tensor in float32, row-major, with its shape. */
public record Tensor(int[] shape, float[] data) {
    public Tensor {
        if (count(shape) != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + count(shape) + " values, not " + data.length);
        }
    }

    public static long count(int[] shape) {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    /** The 2-D transpose: [rows, cols] becomes [cols, rows]. */
    public Tensor transposed() {
        if (shape.length != 2) throw new IllegalArgumentException("transposing needs a matrix, not shape " + Arrays.toString(shape));
        int rows = shape[0];
        int cols = shape[1];
        float[] out = new float[data.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
        }
        return new Tensor(new int[] {cols, rows}, out);
    }

    /** Same shape and the same float bits everywhere. */
    public boolean sameAs(Tensor other) {
        if (!Arrays.equals(shape, other.shape) || data.length != other.data.length) return false;
        for (int i = 0; i < data.length; i++) {
            if (Float.floatToRawIntBits(data[i]) != Float.floatToRawIntBits(other.data[i])) return false;
        }
        return true;
    }
}
