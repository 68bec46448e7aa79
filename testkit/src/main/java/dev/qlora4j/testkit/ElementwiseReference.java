package dev.qlora4j.testkit;

/**
 * The f64 definitions of the engine's elementwise ops, by the names of the {@code UnaryOp} and
 * {@code BinaryOp} constants: the oracle the vector kernels are checked against. Keyed by name so
 * that this kit depends on nothing and every module's tests can use it.
 */
public final class ElementwiseReference {
    private ElementwiseReference() {
    }

    /** {@code op(x)} in f64 for the unary op named {@code op}. */
    public static double unary(String op, double x) {
        return switch (op) {
            case "NEG" -> -x;
            case "ABS" -> Math.abs(x);
            case "EXP" -> Math.exp(x);
            case "LOG" -> Math.log(x);
            case "SQRT" -> Math.sqrt(x);
            case "RSQRT" -> 1 / Math.sqrt(x);
            case "SQUARE" -> x * x;
            case "RECIPROCAL" -> 1 / x;
            case "TANH" -> Math.tanh(x);
            case "SIGMOID" -> 1 / (1 + Math.exp(-x));
            case "SILU" -> x / (1 + Math.exp(-x));
            case "RELU" -> Math.max(x, 0);
            default -> throw new IllegalArgumentException("no reference for the unary op " + op);
        };
    }

    /** {@code op(a, b)} in f64 for the binary op named {@code op}. */
    public static double binary(String op, double a, double b) {
        return switch (op) {
            case "ADD" -> a + b;
            case "SUB" -> a - b;
            case "MUL" -> a * b;
            case "DIV" -> a / b;
            case "MAX" -> Math.max(a, b);
            case "MIN" -> Math.min(a, b);
            default -> throw new IllegalArgumentException("no reference for the binary op " + op);
        };
    }

    /** SwiGLU in f64: {@code silu(gate)·up}. */
    public static double swiglu(double gate, double up) {
        return unary("SILU", gate) * up;
    }

    /** SwiGLU's gradients in f64, {@code {dgate, dup}}, from the derivative of silu: σ(g)·(1 + g·(1 - σ(g))). */
    public static double[] swigluBackward(double gate, double up, double dy) {
        double s = unary("SIGMOID", gate);
        return new double[]{dy * up * s * (1 + gate * (1 - s)), dy * unary("SILU", gate)};
    }
}
