package dev.qlora4j.engine;

import java.util.Arrays;

/**
 * Tensor operations: each checks its arguments (shapes, dtypes, devices, open tensors) with a
 * message naming the operation, then calls the device's backend. Results are contiguous and belong
 * to the current {@link Scope}, if any. The pieces of a training step that are not general tensor
 * math are in {@link TrainingOps}.
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

    /**
     * {@link #matmul(Tensor, Tensor)} with an F32 or BF16 result: accumulation is F32 either way, and a
     * BF16 result is the F32 sums rounded once (on a GPU written so by cuBLAS, with no F32 copy).
     */
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
        Tensor out = Tensor.empty(outType, Shape.of(outDims), d);
        Backends.of(d).matmul(a, b, out, false);
        return out;
    }

    /**
     * {@code out += a · b} into an existing F32 tensor of the product's shape, with no temporary of
     * out's size: how a gradient accumulates a product (a full fine-tune's dW).
     */
    public static void matmulAccumulate(Tensor a, Tensor b, Tensor out) {
        Device d = sameDevice("matmulAccumulate", a, b);
        out.checkOpen("matmulAccumulate");
        if (!out.device().equals(d) || out.dtype() != DType.F32 || !out.isContiguous()) {
            throw new IllegalArgumentException("matmulAccumulate: out " + out.describe() + " on " + out.device()
                    + ", expected a contiguous F32 tensor on " + d);
        }
        floatingInput("matmulAccumulate", a);
        floatingInput("matmulAccumulate", b);
        if (a.rank() < 2 || b.rank() < 2 || b.dim(-2) != a.dim(-1)
                || !out.shape().equals(productShape(a, b))) {
            throw new IllegalArgumentException("matmulAccumulate " + a.describe() + " · " + b.describe() + " into "
                    + out.describe() + ": expected a [..., m, k], b [..., k, n] and out of the product's shape");
        }
        Backends.of(d).matmul(a, b, out, true);
    }

    private static Shape productShape(Tensor a, Tensor b) {
        int[] dims = Arrays.copyOf(a.shape().dims(), a.rank());
        dims[a.rank() - 1] = b.dim(-1);
        if (b.rank() > 2 && !Arrays.equals(Arrays.copyOf(a.shape().dims(), a.rank() - 2),
                Arrays.copyOf(b.shape().dims(), b.rank() - 2))) {
            return null;
        }
        return Shape.of(dims);
    }

    // ---- elementwise ------------------------------------------------------------------------------

    /** {@code op(x)} elementwise, F32 in and out. */
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
        // A one-element CPU tensor is a scalar and may meet a tensor on any device (as in PyTorch):
        // its value goes to the kernel as an argument, and nothing is copied to the device.
        if (isHostScalar(a, b) || isHostScalar(b, a)) {
            boolean scalarFirst = isHostScalar(a, b);
            Tensor scalar = scalarFirst ? a : b;
            Tensor x = scalarFirst ? b : a;
            f32Input(name, scalar);
            Shape shape = broadcastShape(name, a.shape(), b.shape());
            try (Tensor r = scalarOp(name, op, x, scalar.getFlat(0), scalarFirst)) {
                return r.reshape(shape.dims());
            }
        }
        Device d = sameDevice(name, a, b);
        f32Input(name, a);
        f32Input(name, b);
        Tensor out = Tensor.empty(DType.F32, broadcastShape(name, a.shape(), b.shape()), d);
        Backends.of(d).binary(op, a, b, out);
        return out;
    }

    /** {@code op(x, s)} elementwise, with the scalar passed to the kernel by value. */
    public static Tensor binary(BinaryOp op, Tensor x, float s) {
        return scalarOp(op.name().toLowerCase(), op, x, s, false);
    }

    /** {@code op(s, x)} elementwise, with the scalar passed to the kernel by value. */
    public static Tensor binary(BinaryOp op, float s, Tensor x) {
        return scalarOp(op.name().toLowerCase(), op, x, s, true);
    }

    private static Tensor scalarOp(String name, BinaryOp op, Tensor x, float s, boolean scalarFirst) {
        f32Input(name, x);
        Tensor out = Tensor.empty(DType.F32, x.shape(), x.device());
        try (Tensor xc = x.contiguous()) {
            Backends.of(x.device()).binaryScalar(op, xc, s, scalarFirst, out);
        }
        return out;
    }

    /** {@code a + b} with broadcasting. */
    public static Tensor add(Tensor a, Tensor b) {
        return binary(BinaryOp.ADD, a, b);
    }

    /** {@code x + s}. */
    public static Tensor add(Tensor x, float s) {
        return binary(BinaryOp.ADD, x, s);
    }

    /** {@code a - b} with broadcasting. */
    public static Tensor sub(Tensor a, Tensor b) {
        return binary(BinaryOp.SUB, a, b);
    }

    /** {@code a · b} elementwise with broadcasting. */
    public static Tensor mul(Tensor a, Tensor b) {
        return binary(BinaryOp.MUL, a, b);
    }

    /** {@code s · x}: a tensor scaled by a number (a LoRA scale, 1/√d, a learning-rate factor). */
    public static Tensor scale(Tensor x, float s) {
        return binary(BinaryOp.MUL, x, s);
    }

    /** {@code a / b} elementwise with broadcasting. */
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

    /** The sum along {@code axis}, which is removed. */
    public static Tensor sum(Tensor x, int axis) {
        return reduce(ReduceOp.SUM, x, axis, false);
    }

    /** The mean along {@code axis}, which is removed. */
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

    /**
     * Sets every element of the contiguous tensor {@code t} to {@code value}, converted as the dtype
     * converts a float (16-bit floats round to nearest-even), as {@link Tensor#setFlat} stores one.
     */
    public static void fill(Tensor t, float value) {
        t.checkOpen("fill");
        if (!t.isContiguous()) {
            throw new IllegalArgumentException("fill: " + t.describe() + " is a strided view; fill a contiguous tensor"
                    + " and copy it in with copyInto");
        }
        Backends.of(t.device()).fill(t, value);
    }

    /**
     * Copies {@code src} into {@code dst} of the same shape on the same device, converting dtype
     * (float to 16-bit float rounds to nearest-even); {@code dst} may be a strided view, such as a
     * slice of a larger tensor being assembled.
     */
    public static void copyInto(Tensor src, Tensor dst) {
        Device d = sameDevice("copyInto", src, dst);
        if (!src.shape().equals(dst.shape())) {
            throw new IllegalArgumentException("copyInto " + src.describe() + " -> " + dst.describe()
                    + ": expected the same shape");
        }
        Backends.of(d).copy(src, dst);
    }

    // ---- argument checks ------------------------------------------------------------------------------

    private static boolean isHostScalar(Tensor t, Tensor other) {
        return t.numel() == 1 && t.device().equals(Device.CPU) && !other.device().equals(Device.CPU);
    }

    static Device sameDevice(String op, Tensor a, Tensor b) {
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

    static void f32Input(String op, Tensor t) {
        t.checkOpen(op);
        if (t.dtype() != DType.F32) {
            throw new IllegalArgumentException(op + ": operand " + t.describe() + " has dtype " + t.dtype()
                    + ", expected F32 (cast it first with Ops.cast)");
        }
    }
}
