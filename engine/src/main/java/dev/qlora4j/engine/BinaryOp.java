package dev.qlora4j.engine;

import java.util.function.DoubleBinaryOperator;

/** Elementwise functions of two arguments, each with its f64 definition (the tests' oracle). */
public enum BinaryOp {
    ADD((a, b) -> a + b),
    SUB((a, b) -> a - b),
    MUL((a, b) -> a * b),
    DIV((a, b) -> a / b),
    MAX(Math::max),
    MIN(Math::min);

    private final DoubleBinaryOperator reference;

    BinaryOp(DoubleBinaryOperator reference) {
        this.reference = reference;
    }

    public double reference(double a, double b) {
        return reference.applyAsDouble(a, b);
    }
}
