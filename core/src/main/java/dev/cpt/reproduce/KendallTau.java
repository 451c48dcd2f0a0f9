package dev.cpt.reproduce;

/**
 * Kendall's rank correlation τ-b between two scorings of the same items (e.g. one variant's
 * average final loss at two model scales). τ-b rather than τ-a because losses can tie: τ-b
 * divides by {@code sqrt((n0 − n1)(n0 − n2))}, with {@code n0 = n(n−1)/2} and {@code n1},
 * {@code n2} the pairs tied in the first and in the second scoring, so that ties neither count as
 * agreement nor as disagreement and a perfect agreement with ties still gives 1.
 */
public final class KendallTau {
  private KendallTau() {}

  /**
   * τ-b of {@code x} and {@code y}, paired by index. Undefined (NaN) when either scoring is
   * constant, since then no ordering exists to agree with.
   *
   * @throws IllegalArgumentException when the lengths differ or fewer than two items are given
   */
  public static double tauB(double[] x, double[] y) {
    if (x.length != y.length) {
      throw new IllegalArgumentException(
          "Kendall's tau needs paired scores: " + x.length + " vs " + y.length + " items");
    }
    int n = x.length;
    if (n < 2) {
      throw new IllegalArgumentException("Kendall's tau needs at least 2 items, got " + n);
    }
    long concordant = 0, discordant = 0, tiedX = 0, tiedY = 0;
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        int sx = Double.compare(x[i], x[j]);
        int sy = Double.compare(y[i], y[j]);
        if (sx == 0) tiedX++;
        if (sy == 0) tiedY++;
        if (sx != 0 && sy != 0) {
          if (sx == sy) concordant++;
          else discordant++;
        }
      }
    }
    long pairs = (long) n * (n - 1) / 2;
    double denominator = Math.sqrt((double) (pairs - tiedX) * (pairs - tiedY));
    return denominator == 0 ? Double.NaN : (concordant - discordant) / denominator;
  }
}
