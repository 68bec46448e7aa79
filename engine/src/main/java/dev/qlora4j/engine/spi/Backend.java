package dev.qlora4j.engine.spi;

import dev.qlora4j.engine.AdamWStep;
import dev.qlora4j.engine.Allocator;
import dev.qlora4j.engine.BinaryOp;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.DeviceConstants;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.ReduceOp;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.TrainingOps;
import dev.qlora4j.engine.UnaryOp;

/**
 * The kernels of one device, as a backend implements them. Only the engine calls these: its public
 * entries ({@link Ops}, {@link TrainingOps}, {@link Tensor}) have already checked shapes, dtypes
 * and devices and allocated the outputs, so a backend only computes. Outputs are contiguous; inputs
 * may be views with any strides unless a method says otherwise. Backends are found through
 * {@link BackendProvider}.
 */
public interface Backend extends AutoCloseable {
    /** The device this backend computes on. */
    Device device();

    /** The allocator that owns this device's memory. */
    Allocator allocator();

    /**
     * The small read-only tables (rotary tables, code books) kept on this device for reuse, owned by
     * the backend and freed with it.
     */
    DeviceConstants constants();

    /**
     * Waits until every kernel and copy queued on this device has finished; returns at once on a
     * device whose operations complete before they return (the CPU).
     */
    void synchronize();

    /**
     * Bytes a new allocation on this device can still get: the host's available memory for the CPU,
     * the device's free memory for a GPU.
     */
    long memoryAvailable();

    /** Sets every element of {@code t} to {@code value}. */
    void fill(Tensor t, float value);

    /**
     * Copies {@code src} into {@code dst} of the same shape, converting dtype (rounding to
     * nearest-even). Either may be a strided view. A device backend also copies between its device
     * and the CPU: then one side is a CPU tensor, both are contiguous and of the same dtype.
     */
    void copy(Tensor src, Tensor dst);

    /**
     * {@code out[..., m, n] (+)= Σ_k a[..., m, k] · b[..., k, n]} with F32 accumulation. {@code a} and
     * {@code b} are F32, BF16 or F16 and may be transposed views; {@code b} may be 2-D and shared by
     * every batch; {@code out} is contiguous, F32 — or BF16 when not accumulating: the F32 sums
     * rounded once to nearest-even (a GPU writes them so straight from its GEMM).
     */
    void matmul(Tensor a, Tensor b, Tensor out, boolean accumulate);

    /** {@code out = op(x)} elementwise, F32. */
    void unary(UnaryOp op, Tensor x, Tensor out);

    /** {@code out = op(a, b)} elementwise with broadcasting, F32. */
    void binary(BinaryOp op, Tensor a, Tensor b, Tensor out);

    /**
     * {@code out = op(x, s)}, or {@code op(s, x)} when {@code scalarFirst}, elementwise, F32, with the
     * scalar passed by value to the kernel; {@code x} and {@code out} are contiguous.
     */
    void binaryScalar(BinaryOp op, Tensor x, float s, boolean scalarFirst, Tensor out);

    /** {@code out} = {@code x} reduced along {@code axis}; {@code out} has that axis removed or of size 1. */
    void reduce(ReduceOp op, Tensor x, int axis, Tensor out);

    /** Softmax (or log-softmax) of each row along the last axis. */
    void softmax(Tensor x, Tensor out, boolean log);

    /** {@code out = x / sqrt(mean(x², last axis) + eps) * weight}. */
    void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out);

    /**
     * RMSNorm's input gradient for the output's gradient dy, per row of n with
     * {@code r = 1/sqrt(Σx²/n + eps)}: {@code dx = r·(dy·w − x·r²·Σ(dy·w·x)/n)}.
     */
    void rmsNormBackward(Tensor x, Tensor weight, Tensor dy, float eps, Tensor dx);

    // ---- the pieces of a training step that are not matmuls or elementwise math -------------------
    // Inputs are contiguous and on this backend's device; outputs are contiguous F32.

    /**
     * Rotary embedding of x [rows, hd] whose row r sits at position {@code r % t}, with cos and sin
     * tables [t, hd]: {@code out = x·cos + rotate_half(x)·sin}, rotate_half(x) = [-x2, x1]; with
     * {@code inverse}, the transposed rotation (the backward).
     */
    void rope(Tensor x, Tensor cos, Tensor sin, boolean inverse, Tensor out);

    /**
     * SwiGLU, fused: {@code out = silu(gate)·up} elementwise over tensors of one shape; silu(g) is
     * computed as {@code g / (1 + exp(-g))}, the form of {@link #unary}'s SILU.
     */
    void swiglu(Tensor gate, Tensor up, Tensor out);

    /**
     * SwiGLU's backward for the output's gradient dy: {@code dup = dy·silu(gate)} and
     * {@code dgate = dy·up·σ(gate)·(1 + gate·(1 - σ(gate)))}. dgate may be dy itself: each element of dy
     * is read before the same element of dgate is written.
     */
    void swigluBackward(Tensor gate, Tensor up, Tensor dy, Tensor dgate, Tensor dup);

    /**
     * {@code out[i, :] = table[ids[i], :]} as F32 for I32 ids [n] (already checked to lie in the table);
     * the table is F32 or BF16.
     */
    void embedding(Tensor table, Tensor ids, Tensor out);

    /** {@code grad[ids[i], :] += dy[i, :]} (a scatter-add: repeated ids accumulate). */
    void embeddingBackward(Tensor dy, Tensor ids, Tensor grad);

    /**
     * Fused causal self-attention with grouped-query heads: for q [B, H, T, d] and k, v [B, G, T, d]
     * (query head h reads key/value head h / (H/G)), {@code out} [B, H, T, d] = softmax(scale·q·kᵀ with
     * keys after their query masked)·v and {@code lse} [B, H, T] each query row's log-sum-exp of its
     * scaled scores. No T×T tensor is made.
     */
    void causalAttention(Tensor q, Tensor k, Tensor v, float scale, Tensor out, Tensor lse);

    /**
     * The backward of {@link #causalAttention}: dq [B, H, T, d], dk and dv [B, G, T, d] (overwritten)
     * from its inputs, its output and lse, and the output's gradient {@code dout}; the probabilities
     * are recomputed from lse.
     */
    void causalAttentionBackward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor dout, float scale,
                                 Tensor dq, Tensor dk, Tensor dv);

    /** In place: every entry above the diagonal of each trailing [T, T] matrix of {@code t} becomes {@code value}. */
    void fillAboveDiagonal(Tensor t, float value);

    /** {@code out[i] = lsm[i, targets[i]]}, or 0 where {@code targets[i] == ignoreIndex}; lsm [n, v]. */
    void pickTargets(Tensor lsm, Tensor targets, int ignoreIndex, Tensor out);

    /**
     * The gradient of mean cross-entropy with respect to the logits, from their log-softmax [n, v]:
     * {@code out[i, j] = (exp(lsm[i, j]) - [j == targets[i]]) · scale}, 0 on ignored rows.
     */
    void crossEntropyBackward(Tensor lsm, Tensor targets, int ignoreIndex, float scale, Tensor out);

    /** One AdamW update of the F32 parameter {@code p} in place, with its moments {@code m} and {@code v}. */
    void adamw(Tensor p, Tensor grad, Tensor m, Tensor v, AdamWStep step);

    /**
     * Frees what this backend holds. The backends the engine finds live as long as the process; only
     * one made for itself (as by {@link CpuKernels#newBackend}) is closed by its maker.
     */
    @Override
    default void close() {
    }
}
