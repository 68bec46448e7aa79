package dev.qlora4j.engine;

/**
 * Elementwise functions of two arguments, F32 in and out. Their f64 definitions, the tests' oracle,
 * are in the test kit ({@code ElementwiseReference}); a kernel's op code is the constant's ordinal,
 * so new constants go at the end.
 */
public enum BinaryOp {
    /** a + b. */
    ADD,
    /** a - b. */
    SUB,
    /** a · b. */
    MUL,
    /** a / b. */
    DIV,
    /** The larger, as {@link Math#max(float, float)}: NaN if either is, +0 above -0. */
    MAX,
    /** The smaller, as {@link Math#min(float, float)}. */
    MIN
}
