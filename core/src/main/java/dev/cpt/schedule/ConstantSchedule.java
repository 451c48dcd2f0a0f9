package dev.cpt.schedule;

public record ConstantSchedule(double value, long span) implements Schedule {
    @Override
    public double at(long t) {
        return value;
    }
}
