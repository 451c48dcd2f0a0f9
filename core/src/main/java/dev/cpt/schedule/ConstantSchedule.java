package dev.cpt.schedule;

public record ConstantSchedule(double value, long span) implements Schedule {

    public ConstantSchedule {
        Phases.check(span);
    }
    @Override
    public double at(long t) {
        return value;
    }
}
