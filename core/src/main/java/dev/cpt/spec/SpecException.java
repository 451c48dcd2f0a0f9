package dev.cpt.spec;

import java.util.List;

/** A spec that cannot be run: carries every problem found, each with its JSON path. */
public final class SpecException extends RuntimeException {
    private final String source;
    private final List<Problems.Problem> problems;

    public SpecException(String source, List<Problems.Problem> problems) {
        super(render(source, problems));
        this.source = source;
        this.problems = List.copyOf(problems);
    }

    public String source() {
        return source;
    }

    public List<Problems.Problem> problems() {
        return problems;
    }

    private static String render(String source, List<Problems.Problem> problems) {
        StringBuilder sb = new StringBuilder();
        sb.append(source).append(": ").append(problems.size())
          .append(problems.size() == 1 ? " problem" : " problems");
        for (Problems.Problem p : problems) sb.append("\n  ").append(p);
        return sb.toString();
    }
}
