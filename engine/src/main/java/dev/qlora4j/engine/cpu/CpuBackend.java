package dev.qlora4j.engine.cpu;

import dev.qlora4j.engine.AdamWStep;
import dev.qlora4j.engine.Allocator;
import dev.qlora4j.engine.BinaryOp;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.DeviceConstants;
import dev.qlora4j.engine.ReduceOp;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.UnaryOp;
import dev.qlora4j.engine.spi.Backend;

/**
 * The CPU backend: Vector API kernels run on a fixed {@link ParallelPool}. The shared instance uses
 * {@code qlora4j.threads} threads (default: every available processor); benchmarks make their own
 * instances to measure one and two threads.
 */
public final class CpuBackend implements Backend, AutoCloseable {
    private static final CpuBackend SHARED = new CpuBackend(
            Integer.getInteger("qlora4j.threads", Runtime.getRuntime().availableProcessors()));

    /** Below this many elements an elementwise kernel runs on the calling thread only. */
    static final long PARALLEL_MIN_ELEMENTS = 1 << 16;

    private final ParallelPool pool;
    private final DeviceConstants constants = DeviceConstants.builtPerUse(Device.CPU);

    /** A backend of its own on {@code threads} threads (benchmarks measure one and two this way). */
    public CpuBackend(int threads) {
        this.pool = new ParallelPool(threads);
    }

    /** The backend every CPU tensor op uses, on {@code qlora4j.threads} threads. */
    public static CpuBackend shared() {
        return SHARED;
    }

    /** The threads this backend's kernels run on. */
    public int threads() {
        return pool.threads();
    }

    /** The threads this backend's kernels run on; other modules' kernels may share them. */
    public ParallelPool pool() {
        return pool;
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public Allocator allocator() {
        return Allocator.cpu();
    }

    @Override
    public DeviceConstants constants() {
        return constants;
    }

    /** The host's available memory ({@link HostMemory}). */
    @Override
    public long memoryAvailable() {
        return HostMemory.available();
    }

    /** Every CPU kernel has finished when it returns: nothing to wait for. */
    @Override
    public void synchronize() {
    }

    @Override
    public void fill(Tensor t, float value) {
        onHost("fill", t);
        Copy.fill(t, value);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        onHost("copy", src, dst);
        Copy.copy(pool, src, dst);
    }

    @Override
    public void matmul(Tensor a, Tensor b, Tensor out, boolean accumulate) {
        onHost("matmul", a, b, out);
        if (out.dtype() == DType.BF16) {
            // The kernels accumulate into F32; a BF16 result is that, rounded once.
            try (Tensor f32 = Tensor.empty(DType.F32, out.shape(), Device.CPU)) {
                matmul(a, b, f32, false);
                Copy.copy(pool, f32, out);
            }
            return;
        }
        int m = a.dim(-2);
        int k = a.dim(-1);
        int n = b.dim(-1);
        int batch = (int) (out.numel() / Math.max(1L, (long) m * n));
        if (out.numel() == 0) {
            return;
        }
        MatrixOperand c = new MatrixOperand(out.segment(), DType.F32, out.offset(), (long) m * n, n, 1);
        if (m * batch == 1 && a.stride(-1) == 1 && b.rank() == 2 && b.stride(0) == 1
                && (b.dtype() == DType.F32 || b.dtype() == DType.BF16)) {
            // One row times a transposed weight (x·Wᵀ for one token): dot products over W's contiguous rows.
            Gemv.gemv(pool, n, k, a.segment(), a.dtype(), a.offset(), b.segment(), b.dtype(),
                    b.offset(), b.stride(1), out.segment(), out.offset(), accumulate);
            return;
        }
        if (b.rank() == 2 && batch > 1) {
            // A weight shared by every batch: fold the batch into the rows of one taller product when a's layout allows.
            MatrixOperand folded = asMatrix(a, a.rank() - 1);
            if (folded != null) {
                Gemm.gemm(pool, 1, batch * m, n, k, folded, asMatrix(b, 1), c.withRows(), accumulate);
                return;
            }
        }
        try (Tensor ac = batchable(a); Tensor bc = batchable(b)) {
            MatrixOperand ao = asBatch(ac);
            MatrixOperand bo = b.rank() == 2 ? asMatrix(bc, 1) : asBatch(bc);
            Gemm.gemm(pool, batch, m, n, k, ao, bo, c, accumulate);
        }
    }

    /** t itself (as a view to close) when its batch axes collapse to one stride, else a contiguous copy. */
    private static Tensor batchable(Tensor t) {
        return t.matrixBatchStride() >= 0 ? t.slice(0, 0, t.dim(0)) : t.contiguous();
    }

    private static MatrixOperand asBatch(Tensor t) {
        return new MatrixOperand(t.segment(), t.dtype(), t.offset(), t.matrixBatchStride(), t.stride(-2), t.stride(-1));
    }

    /**
     * t seen as one matrix whose rows are all axes before {@code colAxis} (collapsed) and whose
     * columns are the remaining axis; null when the row axes do not collapse to one stride.
     */
    private static MatrixOperand asMatrix(Tensor t, int colAxis) {
        long rowStride = t.stride(colAxis - 1);
        long expected = rowStride * t.dim(colAxis - 1);
        for (int d = colAxis - 2; d >= 0; d--) {
            if (t.dim(d) != 1 && t.stride(d) != expected) {
                return null;
            }
            expected = t.dim(d) == 1 ? expected : t.stride(d) * t.dim(d);
        }
        return new MatrixOperand(t.segment(), t.dtype(), t.offset(), 0, rowStride, t.stride(-1));
    }

    @Override
    public void unary(UnaryOp op, Tensor x, Tensor out) {
        onHost("unary", x, out);
        try (Tensor xc = x.contiguous()) {
            Elementwise.unary(pool, op, xc, out);
        }
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        onHost("binary", a, b, out);
        Elementwise.binary(pool, op, a, b, out);
    }

    @Override
    public void binaryScalar(BinaryOp op, Tensor x, float s, boolean scalarFirst, Tensor out) {
        onHost("binaryScalar", x, out);
        Elementwise.binaryScalar(pool, op, x, s, scalarFirst, out);
    }

    @Override
    public void reduce(ReduceOp op, Tensor x, int axis, Tensor out) {
        onHost("reduce", x, out);
        try (Tensor xc = x.contiguous()) {
            Reductions.reduce(pool, op, xc, axis, out);
        }
    }

    @Override
    public void softmax(Tensor x, Tensor out, boolean log) {
        onHost("softmax", x, out);
        try (Tensor xc = x.contiguous()) {
            RowKernels.softmax(pool, xc, out, log);
        }
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
        onHost("rmsNorm", x, weight, out);
        try (Tensor xc = x.contiguous(); Tensor wc = weight.contiguous()) {
            RowKernels.rmsNorm(pool, xc, wc, eps, out);
        }
    }

    @Override
    public void rmsNormBackward(Tensor x, Tensor weight, Tensor dy, float eps, Tensor dx) {
        onHost("rmsNormBackward", x, weight, dy, dx);
        RowKernels.rmsNormBackward(pool, x, weight, dy, eps, dx);
    }

    @Override
    public void causalAttention(Tensor q, Tensor k, Tensor v, float scale, Tensor out, Tensor lse) {
        onHost("causalAttention", q, k, v, out, lse);
        CausalAttention.forward(pool, q, k, v, scale, out, lse);
    }

    @Override
    public void causalAttentionBackward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor dout, float scale,
                                        Tensor dq, Tensor dk, Tensor dv) {
        onHost("causalAttentionBackward", q, k, v, out, lse, dout, dq, dk, dv);
        CausalAttention.backward(pool, q, k, v, out, lse, dout, scale, dq, dk, dv);
    }

    @Override
    public void rope(Tensor x, Tensor cos, Tensor sin, boolean inverse, Tensor out) {
        onHost("rope", x, cos, sin, out);
        TrainingKernels.rope(x, cos, sin, inverse, out);
    }

    @Override
    public void swiglu(Tensor gate, Tensor up, Tensor out) {
        onHost("swiglu", gate, up, out);
        Elementwise.swiglu(pool, gate, up, out);
    }

    @Override
    public void swigluBackward(Tensor gate, Tensor up, Tensor dy, Tensor dgate, Tensor dup) {
        onHost("swigluBackward", gate, up, dy, dgate, dup);
        Elementwise.swigluBackward(pool, gate, up, dy, dgate, dup);
    }

    @Override
    public void embedding(Tensor table, Tensor ids, Tensor out) {
        onHost("embedding", table, ids, out);
        TrainingKernels.embedding(table, ids, out);
    }

    @Override
    public void embeddingBackward(Tensor dy, Tensor ids, Tensor grad) {
        onHost("embeddingBackward", dy, ids, grad);
        TrainingKernels.embeddingBackward(dy, ids, grad);
    }

    @Override
    public void fillAboveDiagonal(Tensor t, float value) {
        onHost("fillAboveDiagonal", t);
        TrainingKernels.fillAboveDiagonal(t, value);
    }

    @Override
    public void pickTargets(Tensor lsm, Tensor targets, int ignoreIndex, Tensor out) {
        onHost("pickTargets", lsm, targets, out);
        TrainingKernels.pickTargets(lsm, targets, ignoreIndex, out);
    }

    @Override
    public void crossEntropyBackward(Tensor lsm, Tensor targets, int ignoreIndex, float scale, Tensor out) {
        onHost("crossEntropyBackward", lsm, targets, out);
        TrainingKernels.crossEntropyBackward(lsm, targets, ignoreIndex, scale, out);
    }

    @Override
    public void adamw(Tensor p, Tensor grad, Tensor m, Tensor v, AdamWStep step) {
        onHost("adamw", p, grad, m, v);
        TrainingKernels.adamw(p, grad, m, v, step);
    }

    /**
     * Refuses a tensor that is not in host memory: this backend's kernels read and write through
     * {@link Tensor#segment()}, which for a GPU tensor is a device address — reading it would crash
     * the JVM (or, under the CUDA host emulator, silently work).
     */
    private static void onHost(String op, Tensor... tensors) {
        for (Tensor t : tensors) {
            if (!t.device().equals(Device.CPU)) {
                throw new IllegalArgumentException(op + " on the CPU: " + t.describe() + " is on " + t.device()
                        + "; move it with to(Device.CPU), or compute on its device");
            }
        }
    }

    @Override
    public void close() {
        pool.close();
    }
}
