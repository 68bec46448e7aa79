package dev.qlora4j.engine;

/**
 * Elementwise functions of one argument, F32 in and out. Their f64 definitions, the tests' oracle,
 * are in the test kit ({@code ElementwiseReference}); a kernel's op code is the constant's ordinal,
 * so new constants go at the end.
 */
public enum UnaryOp {
    /** -x. */
    NEG,
    /** |x|. */
    ABS,
    /** e^x. */
    EXP,
    /** ln x. */
    LOG,
    /** √x. */
    SQRT,
    /** 1/√x. */
    RSQRT,
    /** x². */
    SQUARE,
    /** 1/x. */
    RECIPROCAL,
    /** tanh x. */
    TANH,
    /** 1/(1 + e^-x). */
    SIGMOID,
    /** x·sigmoid(x), the activation of Llama's SwiGLU MLP. */
    SILU,
    /** max(x, 0). */
    RELU
}
