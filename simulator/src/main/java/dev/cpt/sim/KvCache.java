package dev.cpt.sim;

/**
 * Every layer's keys and values of the positions decoded so far, so that a new token's attention
 * reads them instead of recomputing them. Keys are kept transposed per head ([heads, hs, context]):
 * a query's scores against all cached keys are then a broadcast-times-row product along the key
 * axis, as in {@link Attention}. Values are kept as rows ([context, C]): the weighted sum runs
 * along a head's columns. Room for the model's whole context is allocated up front.
 */
final class KvCache {
    final int context;
    final int c;
    final int heads;
    final int hs;
    private final float[][] keysT;
    private final float[][] values;

    KvCache(int layers, int context, int c, int heads) {
        this.context = context;
        this.c = c;
        this.heads = heads;
        this.hs = c / heads;
        this.keysT = new float[layers][c * context];
        this.values = new float[layers][context * c];
    }

    /** Stores position {@code t}'s key and value, columns [C, 2C) and [2C, 3C) of its fused {@code qkv} row. */
    void store(int layer, int t, float[] qkv) {
        float[] kt = keysT[layer];
        for (int h = 0; h < heads; h++) {
            for (int d = 0; d < hs; d++) kt[(h * hs + d) * context + t] = qkv[c + h * hs + d];
        }
        System.arraycopy(qkv, 2 * c, values[layer], t * c, c);
    }

    /** Layer {@code layer}'s keys: element (head h, dim d, position t) at {@code (h·hs + d)·context + t}. */
    float[] keysT(int layer) {
        return keysT[layer];
    }

    /** Layer {@code layer}'s values: position t's row at {@code t·C}. */
    float[] values(int layer) {
        return values[layer];
    }
}
