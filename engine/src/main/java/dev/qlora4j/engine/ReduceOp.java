package dev.qlora4j.engine;

/** Reductions along one axis. */
public enum ReduceOp {
    /** The sum of the elements; 0 for an empty axis. */
    SUM,
    /** The sum divided by the axis length. */
    MEAN,
    /** The largest element. */
    MAX,
    /** The smallest element. */
    MIN
}
