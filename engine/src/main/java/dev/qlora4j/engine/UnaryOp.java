package dev.qlora4j.engine;

import java.util.function.DoubleUnaryOperator;

/** Elementwise functions of one argument, each with its f64 definition (the tests' oracle). */
public enum UnaryOp {
    NEG(x -> -x),
    ABS(Math::abs),
    EXP(Math::exp),
    LOG(Math::log),
    SQRT(Math::sqrt),
    RSQRT(x -> 1 / Math.sqrt(x)),
    SQUARE(x -> x * x),
    RECIPROCAL(x -> 1 / x),
    TANH(Math::tanh),
    SIGMOID(x -> 1 / (1 + Math.exp(-x))),
    /** x·sigmoid(x), the activation of Llama's SwiGLU MLP. */
    SILU(x -> x / (1 + Math.exp(-x))),
    RELU(x -> Math.max(x, 0));

    private final DoubleUnaryOperator reference;

    UnaryOp(DoubleUnaryOperator reference) {
        this.reference = reference;
    }

    /** The mathematical definition in f64. */
    public double reference(double x) {
        return reference.applyAsDouble(x);
    }
}
