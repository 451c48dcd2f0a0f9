package dev.cpt.spec;

/** Checks of the max/min pair that every decaying schedule has. */
final class Values {
    private Values() {}

    static void maxMin(String path, Double max, Double min, Problems p) {
        String maxPath = Problems.child(path, "max");
        String minPath = Problems.child(path, "min");
        boolean hasMax = p.require(maxPath, max);
        boolean hasMin = p.require(minPath, min);
        p.finite(maxPath, max);
        p.finite(minPath, min);
        if (hasMax) p.positive(maxPath, max);
        if (hasMin) p.nonNegative(minPath, min);
        if (hasMax && hasMin && min > max) {
            p.add(minPath, Problems.format(min) + " is above max " + Problems.format(max));
        }
    }
}
