package dev.qlora4j.engine;

import java.util.Arrays;
import java.util.List;

/**
 * Tensor operations that allocate their result: each checks its arguments (shapes, dtypes,
 * devices, open tensors) with a message naming the operation, then calls the device's
 * {@link Backend}. Results are contiguous and belong to the current {@link Scope}, if any.
 */
public final class Ops {
    private Ops() {
    }

    // ---- GEMM -----------------------------------------------------------------------------------

    /**
     * Matrix product over the last two axes, {@code a[..., m, k] · b[..., k, n] -> F32 [..., m, n]}.
     * Leading (batch) axes of {@code a} and {@code b} must be equal, or {@code b} is 2-D and shared.
     * Inputs are F32, BF16 or F16; use {@link Tensor#transpose} views for transposed operands.
     */
    public static Tensor matmul(Tensor a, Tensor b) {
        return matmul(a, b, DType.F32);
    }

    /** {@link #matmul(Tensor, Tensor)} with an F32 or BF16 result (accumulation is F32 either way). */
    public static Tensor matmul(Tensor a, Tensor b, DType outType) {
        Device d = sameDevice("matmul", a, b);
        floatingInput("matmul", a);
        floatingInput("matmul", b);
        if (outType != DType.F32 && outType != DType.BF16) {
            throw new IllegalArgumentException("matmul: output dtype " + outType + ", expected F32 or BF16");
        }
        if (a.rank() < 2 || b.rank() < 2) {
            throw new IllegalArgumentException("matmul " + a.describe() + " · " + b.describe()
                    + ": both operands need at least 2 dimensions");
        }
        int m = a.dim(-2);
        int k = a.dim(-1);
        int n = b.dim(-1);
        int[] aBatch = Arrays.copyOf(a.shape().dims(), a.rank() - 2);
        int[] bBatch = Arrays.copyOf(b.shape().dims(), b.rank() - 2);
        if (b.dim(-2) != k || (bBatch.length > 0 && !Arrays.equals(aBatch, bBatch))) {
            throw new IllegalArgumentException("matmul " + a.describe() + " · " + b.describe()
                    + ": expected b of shape [..., " + k + ", n] with the same batch axes as a "
                    + Arrays.toString(aBatch) + " (or none)");
        }
        int[] outDims = Arrays.copyOf(aBatch, aBatch.length + 2);
        outDims[aBatch.length] = m;
        outDims[aBatch.length + 1] = n;
        Tensor out = Tensor.empty(DType.F32, Shape.of(outDims), d);
        Backends.of(d).matmul(a, b, out, false);
        return outType == DType.F32 ? out : castAndClose(out, outType);
    }

    private static Tensor castAndClose(Tensor t, DType type) {
        try (t) {
            return cast(t, type);
        }
    }

    // ---- elementwise ------------------------------------------------------------------------------

    public static Tensor unary(UnaryOp op, Tensor x) {
        f32Input(op.name().toLowerCase(), x);
        Tensor out = Tensor.empty(DType.F32, x.shape(), x.device());
        Backends.of(x.device()).unary(op, x, out);
        return out;
    }

    /** {@code op(a, b)} with NumPy broadcasting: trailing axes align; size-1 axes stretch. */
    public static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        String name = op.name().toLowerCase();
        a.checkOpen(name);
        b.checkOpen(name);
        // A one-element CPU tensor is a scalar constant and may meet a tensor on any device (as in
        // PyTorch): it is moved there rather than refused.
        if (isHostScalar(a, b) || isHostScalar(b, a)) {
            boolean moveA = isHostScalar(a, b);
            Tensor scalar = moveA ? a : b;
            // Kept on the device by value: a step multiplies by the same few constants every time.
            List<Object> key = List.of("scalar", scalar.dtype(), scalar.shape().toString(),
                    Float.floatToRawIntBits(scalar.getFlat(0)));
            try (Tensor moved = DeviceConstants.on(moveA ? b.device() : a.device(), key, () -> scalar.contiguous())) {
                return moveA ? binary(op, moved, b) : binary(op, a, moved);
            }
        }
        Device d = sameDevice(name, a, b);
        f32Input(name, a);
        f32Input(name, b);
        Tensor out = Tensor.empty(DType.F32, broadcastShape(name, a.shape(), b.shape()), d);
        Backends.of(d).binary(op, a, b, out);
        return out;
    }

    public static Tensor add(Tensor a, Tensor b) {
        return binary(BinaryOp.ADD, a, b);
    }

    public static Tensor sub(Tensor a, Tensor b) {
        return binary(BinaryOp.SUB, a, b);
    }

    public static Tensor mul(Tensor a, Tensor b) {
        return binary(BinaryOp.MUL, a, b);
    }

    public static Tensor div(Tensor a, Tensor b) {
        return binary(BinaryOp.DIV, a, b);
    }

    /** The shape NumPy broadcasting gives {@code a op b}. */
    public static Shape broadcastShape(String op, Shape a, Shape b) {
        int rank = Math.max(a.rank(), b.rank());
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i < rank - a.rank() ? 1 : a.dim(i - (rank - a.rank()));
            int db = i < rank - b.rank() ? 1 : b.dim(i - (rank - b.rank()));
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(op + ": shapes " + a + " and " + b
                        + " do not broadcast (axis " + i + ": " + da + " vs " + db + ")");
            }
            out[i] = da == 1 ? db : da;
        }
        return Shape.of(out);
    }

    // ---- reductions and rows ----------------------------------------------------------------------

    /** Reduces along {@code axis}; {@code keepDim} leaves it in the result with size 1. */
    public static Tensor reduce(ReduceOp op, Tensor x, int axis, boolean keepDim) {
        String name = op.name().toLowerCase();
        f32Input(name, x);
        int ax = x.shape().normalizeAxis(axis);
        if (x.dim(ax) == 0 && (op == ReduceOp.MAX || op == ReduceOp.MIN || op == ReduceOp.MEAN)) {
            throw new IllegalArgumentException(name + " of " + x.describe() + " along axis " + axis
                    + ": the axis is empty");
        }
        int[] dims = x.shape().dims();
        dims[ax] = 1;
        Tensor out = Tensor.empty(DType.F32, Shape.of(dims), x.device());
        Backends.of(x.device()).reduce(op, x, ax, out);
        if (keepDim) {
            return out;
        }
        int[] squeezed = new int[dims.length - 1];
        for (int i = 0, j = 0; i < dims.length; i++) {
            if (i != ax) {
                squeezed[j++] = dims[i];
            }
        }
        try (out) {
            return out.reshape(squeezed);
        }
    }

    public static Tensor sum(Tensor x, int axis) {
        return reduce(ReduceOp.SUM, x, axis, false);
    }

    public static Tensor mean(Tensor x, int axis) {
        return reduce(ReduceOp.MEAN, x, axis, false);
    }

    /** Softmax along the last axis. */
    public static Tensor softmax(Tensor x) {
        return rows("softmax", x, false);
    }

    /** Log-softmax along the last axis, computed without forming the softmax (no log of 0). */
    public static Tensor logSoftmax(Tensor x) {
        return rows("logSoftmax", x, true);
    }

    private static Tensor rows(String name, Tensor x, boolean log) {
        f32Input(name, x);
        if (x.rank() == 0 || x.dim(-1) == 0) {
            throw new IllegalArgumentException(name + " of " + x.describe() + ": needs a non-empty last axis");
        }
        Tensor out = Tensor.empty(DType.F32, x.shape(), x.device());
        Backends.of(x.device()).softmax(x, out, log);
        return out;
    }

    /** RMSNorm along the last axis: {@code x / sqrt(mean(x²) + eps) * weight}, weight of shape [last]. */
    public static Tensor rmsNorm(Tensor x, Tensor weight, float eps) {
        Device d = sameDevice("rmsNorm", x, weight);
        f32Input("rmsNorm", x);
        f32Input("rmsNorm", weight);
        if (x.rank() == 0 || weight.rank() != 1 || weight.dim(0) != x.dim(-1)) {
            throw new IllegalArgumentException("rmsNorm of " + x.describe() + " with weight " + weight.describe()
                    + ": expected weight of shape [" + (x.rank() == 0 ? "?" : x.dim(-1)) + "]");
        }
        if (!(eps >= 0)) {
            throw new IllegalArgumentException("rmsNorm: eps " + eps + ", expected >= 0");
        }
        Tensor out = Tensor.empty(DType.F32, x.shape(), d);
        Backends.of(d).rmsNorm(x, weight, eps, out);
        return out;
    }

    // ---- casts and copies --------------------------------------------------------------------------

    /** A contiguous copy converted to {@code type}; float to 16-bit float rounds to nearest-even. */
    public static Tensor cast(Tensor x, DType type) {
        x.checkOpen("cast");
        Tensor out = Tensor.empty(type, x.shape(), x.device());
        Backends.of(x.device()).copy(x, out);
        return out;
    }

    // ---- argument checks ------------------------------------------------------------------------------

    private static boolean isHostScalar(Tensor t, Tensor other) {
        return t.numel() == 1 && t.device().equals(Device.CPU) && !other.device().equals(Device.CPU);
    }

    private static Device sameDevice(String op, Tensor a, Tensor b) {
        a.checkOpen(op);
        b.checkOpen(op);
        if (!a.device().equals(b.device())) {
            throw new IllegalArgumentException(op + ": operands on different devices: " + a.describe() + " on "
                    + a.device() + ", " + b.describe() + " on " + b.device());
        }
        return a.device();
    }

    private static void floatingInput(String op, Tensor t) {
        t.checkOpen(op);
        if (!t.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(op + ": operand " + t.describe() + " has dtype " + t.dtype()
                    + ", expected F32, BF16 or F16");
        }
    }

    private static void f32Input(String op, Tensor t) {
        t.checkOpen(op);
        if (t.dtype() != DType.F32) {
            throw new IllegalArgumentException(op + ": operand " + t.describe() + " has dtype " + t.dtype()
                    + ", expected F32 (cast it first with Ops.cast)");
        }
    }
}
