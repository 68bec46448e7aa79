package dev.qlora4j.engine;

/**
 * The kernels of one device. Callers ({@link Ops}) have already checked shapes, dtypes and devices
 * and allocated the outputs; a backend only computes. Outputs are contiguous; inputs may be views
 * with any strides unless a method says otherwise.
 */
public interface Backend {
    Device device();

    Allocator allocator();

    /** Sets every element of {@code t} to {@code value}. */
    void fill(Tensor t, float value);

    /** Copies {@code src} into {@code dst} of the same shape, converting dtype (rounding to nearest-even). */
    void copy(Tensor src, Tensor dst);

    /**
     * {@code out[..., m, n] (+)= Σ_k a[..., m, k] · b[..., k, n]} with F32 accumulation. {@code a} and
     * {@code b} are F32, BF16 or F16 and may be transposed views; {@code b} may be 2-D and shared by
     * every batch; {@code out} is F32 and contiguous.
     */
    void matmul(Tensor a, Tensor b, Tensor out, boolean accumulate);

    /** {@code out = op(x)} elementwise, F32. */
    void unary(UnaryOp op, Tensor x, Tensor out);

    /** {@code out = op(a, b)} elementwise with broadcasting, F32. */
    void binary(BinaryOp op, Tensor a, Tensor b, Tensor out);

    /** {@code out} = {@code x} reduced along {@code axis}; {@code out} has that axis removed or of size 1. */
    void reduce(ReduceOp op, Tensor x, int axis, Tensor out);

    /** Softmax (or log-softmax) of each row along the last axis. */
    void softmax(Tensor x, Tensor out, boolean log);

    /** {@code out = x / sqrt(mean(x², last axis) + eps) * weight}. */
    void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out);
}
