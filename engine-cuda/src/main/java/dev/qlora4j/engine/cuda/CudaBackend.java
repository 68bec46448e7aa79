package dev.qlora4j.engine.cuda;

import dev.qlora4j.engine.AdamWStep;
import dev.qlora4j.engine.Allocator;
import dev.qlora4j.engine.BinaryOp;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.DeviceConstants;
import dev.qlora4j.engine.ReduceOp;
import dev.qlora4j.engine.Shape;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.UnaryOp;
import dev.qlora4j.engine.spi.Backend;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The CUDA backend: GEMMs through cuBLAS ({@link CudaMatmul}), everything else through the kernels
 * of {@code kernels.cu}, whose PTX is committed beside it and loaded at first use. All work of a
 * device is queued on its one stream ({@link CudaContext}); only copies to the host wait.
 *
 * <p>Kernel codes passed as {@code int}: dtype = {@link DType#ordinal()}, and the ordinals of
 * {@link UnaryOp}, {@link BinaryOp} and {@link ReduceOp} (kernels.cu lists the same orders).
 */
public final class CudaBackend implements Backend {
    private static final Map<Integer, CudaBackend> BACKENDS = new ConcurrentHashMap<>();
    /** Columns (a warp's width) from which a reduction along a leading axis runs a thread per output. */
    private static final long COLUMN_MIN_INNER = 32;
    /** Outputs from which there are threads enough for that; fewer go through the row kernel's two passes. */
    private static final long COLUMN_MIN_OUTPUTS = 2048;

    private final CudaContext context;

    private CudaBackend(CudaContext context) {
        this.context = context;
    }

    /**
     * The backend of a CUDA device.
     *
     * @throws dev.qlora4j.cuda.CudaUnavailableException when CUDA cannot be used here, saying why
     */
    public static CudaBackend of(Device device) {
        CudaContext context = CudaContext.of(device);
        CudaBackend backend = BACKENDS.computeIfAbsent(device.index(), i -> new CudaBackend(context));
        backend.warmUpOnce();
        return backend;
    }

    private final java.util.concurrent.atomic.AtomicBoolean warming = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * Loads every engine kernel and runs one F32 and one BF16 GEMM, so that the kernel code and
     * cuBLAS's workspace are in place before the first real op: failures there (no JIT compiler, a
     * driver too old for the code, no memory) surface when the device is first asked for, where
     * {@code --device auto} can still fall back to the CPU. The tensors it makes reach this method
     * again, which returns at once: the flag is set before the work starts.
     */
    private void warmUpOnce() {
        if (!warming.compareAndSet(false, true)) {
            return;
        }
        kernels();
        for (DType t : new DType[]{DType.F32, DType.BF16}) {
            try (Tensor a = Tensor.zeros(t, Shape.of(1, 1), device()); Tensor out = Tensor.empty(DType.F32, Shape.of(1, 1), device())) {
                matmul(a, a, out, false);
            }
        }
        context.synchronize();
    }

    /** The device's context: its stream, cuBLAS handle, allocator and loaded kernel libraries. */
    public CudaContext context() {
        return context;
    }

    private CudaModule kernels() {
        return context.module("dev/qlora4j/engine/cuda/kernels.ptx", () -> CudaBackend.class.getResourceAsStream("kernels.ptx"),
                () -> CudaBackend.class.getResourceAsStream("kernels.fatbin"));
    }

    @Override
    public Device device() {
        return context.device();
    }

    @Override
    public Allocator allocator() {
        return context.allocator();
    }

    @Override
    public DeviceConstants constants() {
        return context.constants();
    }

    @Override
    public void synchronize() {
        context.synchronize();
    }

    /** The device's free memory as {@code cudaMemGetInfo} reports it. */
    @Override
    public long memoryAvailable() {
        return context.freeMemory();
    }

    @Override
    public void fill(Tensor t, float value) {
        if (!t.isContiguous()) {
            throw new IllegalArgumentException("fill: " + t.describe() + " is not contiguous; fill a contiguous tensor and copy it");
        }
        if (Float.floatToRawIntBits(value) == 0) {
            context.zero(CudaContext.address(t), t.numel() * t.dtype().byteSize());
            return;
        }
        // The element's bytes, converted exactly as a CPU tensor converts a float.
        int bits;
        try (Tensor one = Tensor.of(t.dtype(), new float[]{value}, 1)) {
            bits = switch (t.dtype().byteSize()) {
                case 1 -> one.segment().get(ValueLayout.JAVA_BYTE, 0) & 0xFF;
                case 2 -> one.segment().get(ValueLayout.JAVA_SHORT_UNALIGNED, 0) & 0xFFFF;
                default -> one.segment().get(ValueLayout.JAVA_INT_UNALIGNED, 0);
            };
        }
        context.launch(kernels(), "fill", t.numel(), t, t.numel(), t.dtype().byteSize(), bits);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        long n = src.numel();
        if (n == 0) {
            return;
        }
        boolean toHost = dst.device().equals(Device.CPU);
        boolean betweenGpus = !src.device().equals(dst.device()) && !toHost && !src.device().equals(Device.CPU);
        if (!src.device().equals(dst.device())) {
            if (src.dtype() != dst.dtype() || !src.isContiguous() || !dst.isContiguous()) {
                throw new IllegalArgumentException("copy " + src.describe() + " -> " + dst.describe()
                        + ": copies between devices need contiguous tensors of one dtype");
            }
            if (betweenGpus) {
                // Each device orders its work on its own stream only, and the copy is queued on one
                // of them: wait for both queues first (kernels that write src, or that still read
                // dst's block before the allocator handed it out again, may be running), and for the
                // copy before returning (src may be freed as soon as this returns, and its stream
                // would then reuse the block while the copy still reads it).
                CudaContext.of(src.device()).synchronize();
                CudaContext.of(dst.device()).synchronize();
            }
            context.copy(CudaContext.address(dst), CudaContext.address(src), n * src.dtype().byteSize(), toHost);
            if (betweenGpus) {
                context.synchronize();
            }
            return;
        }
        if (src.dtype() == dst.dtype() && src.isContiguous() && dst.isContiguous()) {
            context.copy(CudaContext.address(dst), CudaContext.address(src), n * src.dtype().byteSize(), false);
            return;
        }
        if (src.isContiguous() && dst.isContiguous()) {
            context.launch(kernels(), "cast_contiguous", n, src, src.dtype().ordinal(), dst, dst.dtype().ordinal(), n);
            return;
        }
        int[] dims = src.shape().dims();
        try (Arena arena = Arena.ofConfined()) {
            context.launch(kernels(), "copy_strided", n, src, src.dtype().ordinal(), KernelStructs.view(arena, src, dims),
                    dst, dst.dtype().ordinal(), KernelStructs.view(arena, dst, dims), KernelStructs.shape(arena, dims), n);
        }
    }

    @Override
    public void matmul(Tensor a, Tensor b, Tensor out, boolean accumulate) {
        CudaMatmul.matmul(context, a, b, out, accumulate);
    }

    @Override
    public void unary(UnaryOp op, Tensor x, Tensor out) {
        try (Tensor xc = x.contiguous()) {
            context.launch(kernels(), "unary_f32", x.numel(), op.ordinal(), xc, out, x.numel());
        }
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        if (a.isContiguous() && b.isContiguous() && a.shape().equals(out.shape()) && b.shape().equals(out.shape())) {
            context.launch(kernels(), "binary_contiguous_f32", out.numel(), op.ordinal(), a, b, out, out.numel());
            return;
        }
        int[] dims = out.shape().dims();
        try (Arena arena = Arena.ofConfined()) {
            context.launch(kernels(), "binary_f32", out.numel(), op.ordinal(), a, KernelStructs.view(arena, a, dims),
                    b, KernelStructs.view(arena, b, dims), out, KernelStructs.shape(arena, dims), out.numel());
        }
    }

    @Override
    public void binaryScalar(BinaryOp op, Tensor x, float s, boolean scalarFirst, Tensor out) {
        context.launch(kernels(), "binary_scalar_f32", x.numel(), op.ordinal(), x, s, scalarFirst ? 1 : 0, out, x.numel());
    }

    @Override
    public void reduce(ReduceOp op, Tensor x, int axis, Tensor out) {
        long outer = 1;
        long inner = 1;
        for (int d = 0; d < axis; d++) {
            outer *= x.dim(d);
        }
        for (int d = axis + 1; d < x.rank(); d++) {
            inner *= x.dim(d);
        }
        long len = x.dim(axis);
        try (Tensor xc = x.contiguous()) {
            if (inner >= COLUMN_MIN_INNER && outer * inner >= COLUMN_MIN_OUTPUTS) {
                // Along a leading axis with many outputs: one thread per output, reads coalesced across threads.
                context.launch(kernels(), "reduce_columns_f32", outer * inner, op.ordinal(), xc, out, outer, len, inner);
                return;
            }
            long chunk = op == ReduceOp.MEAN ? 0 : twoPassChunk(outer * inner, len);
            if (chunk == 0) {
                context.launchRows(kernels(), "reduce_f32", outer * inner, op.ordinal(), xc, out, outer, len, inner);
                return;
            }
            // [outer, len, inner] is [outer·chunks, chunk, inner]: first every chunk, then the chunks.
            long chunks = len / chunk;
            try (Tensor partial = Tensor.empty(DType.F32, Shape.of((int) (outer * chunks * inner)), device())) {
                context.launchRows(kernels(), "reduce_f32", outer * chunks * inner, op.ordinal(), xc, partial,
                        outer * chunks, chunk, inner);
                context.launchRows(kernels(), "reduce_f32", outer * inner, op.ordinal(), partial, out, outer, chunks, inner);
            }
        }
    }

    /**
     * The chunk length that splits a long reduction in two passes, or 0 for one pass. The kernel
     * gives each output one block of 256 threads: when there are few outputs and each reduces a
     * long axis (a whole gradient's sum of squares), a handful of blocks would do all the work, so
     * the axis is cut into chunks reduced by blocks of their own, then the chunks. A chunk must
     * divide the axis exactly; an axis with no divisor in range keeps one pass.
     */
    static long twoPassChunk(long outputs, long len) {
        if (outputs >= 1024 || len < (1 << 16)) {
            return 0;
        }
        for (long chunk = 1 << 14; chunk >= 1 << 10; chunk--) {
            if (len % chunk == 0) {
                return chunk;
            }
        }
        return 0;
    }

    @Override
    public void softmax(Tensor x, Tensor out, boolean log) {
        int cols = x.dim(-1);
        long rows = x.numel() / cols;
        try (Tensor xc = x.contiguous()) {
            context.launchRows(kernels(), "softmax_f32", rows, xc, out, rows, cols, log ? 1 : 0);
        }
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
        int cols = x.dim(-1);
        long rows = x.numel() / cols;
        try (Tensor xc = x.contiguous(); Tensor wc = weight.contiguous()) {
            context.launchRows(kernels(), "rmsnorm_f32", rows, xc, wc, out, rows, cols, eps);
        }
    }

    @Override
    public void rmsNormBackward(Tensor x, Tensor weight, Tensor dy, float eps, Tensor dx) {
        int cols = x.dim(-1);
        long rows = x.numel() / cols;
        context.launchRows(kernels(), "rmsnorm_backward_f32", rows, x, weight, dy, dx, rows, cols, eps);
    }

    @Override
    public void swiglu(Tensor gate, Tensor up, Tensor out) {
        context.launch(kernels(), "swiglu_f32", gate.numel(), gate, up, out, gate.numel());
    }

    @Override
    public void swigluBackward(Tensor gate, Tensor up, Tensor dy, Tensor dgate, Tensor dup) {
        context.launch(kernels(), "swiglu_backward_f32", gate.numel(), gate, up, dy, dgate, dup, gate.numel());
    }

    @Override
    public void rope(Tensor x, Tensor cos, Tensor sin, boolean inverse, Tensor out) {
        int hd = cos.dim(1);
        long rows = x.numel() / hd;
        context.launch(kernels(), "rope_f32", x.numel(), x, cos, sin, out, rows, cos.dim(0), hd, inverse ? 1 : 0);
    }

    @Override
    public void causalAttention(Tensor q, Tensor k, Tensor v, float scale, Tensor out, Tensor lse) {
        checkAttentionWidth("causalAttention", q);
        long rows = (long) q.dim(0) * q.dim(1) * q.dim(2);
        context.launchRows(kernels(), "causal_attention_f32", rows, q, k, v, out, lse, rows, q.dim(1), k.dim(1), q.dim(2),
                q.dim(3), scale);
    }

    @Override
    public void causalAttentionBackward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor dout, float scale,
                                        Tensor dq, Tensor dk, Tensor dv) {
        checkAttentionWidth("causalAttentionBackward", q);
        long rows = (long) q.dim(0) * q.dim(1) * q.dim(2);
        long keyRows = (long) k.dim(0) * k.dim(1) * k.dim(2);
        // dk and dv need each query row's D = dout·out, which the dq kernel computes on its way.
        try (Tensor dsum = Tensor.empty(DType.F32, Shape.of(q.dim(0), q.dim(1), q.dim(2)), device())) {
            context.launchRows(kernels(), "causal_attention_backward_q_f32", rows, q, k, v, out, lse, dout, dq, dsum, rows,
                    q.dim(1), k.dim(1), q.dim(2), q.dim(3), scale);
            context.launchRows(kernels(), "causal_attention_backward_kv_f32", keyRows, q, k, v, lse, dout, dsum, dk, dv,
                    keyRows, q.dim(1), k.dim(1), q.dim(2), q.dim(3), scale);
        }
    }

    /** The kernels keep a row's output columns in registers, four per thread of a 256-thread block. */
    private static void checkAttentionWidth(String op, Tensor q) {
        if (q.dim(3) > 4 * 256) {
            throw new IllegalArgumentException(op + " on CUDA: head dimension " + q.dim(3) + " of " + q.describe()
                    + "; expected at most 1024");
        }
    }

    @Override
    public void embedding(Tensor table, Tensor ids, Tensor out) {
        int d = table.dim(1);
        context.launch(kernels(), "embedding_f32", ids.numel() * d, table, table.dtype().ordinal(), ids, out, ids.numel(), d);
    }

    @Override
    public void embeddingBackward(Tensor dy, Tensor ids, Tensor grad) {
        int d = grad.dim(1);
        context.launch(kernels(), "embedding_backward_f32", ids.numel() * d, dy, ids, grad, ids.numel(), d);
    }

    @Override
    public void fillAboveDiagonal(Tensor t, float value) {
        int size = t.dim(-1);
        long matrices = t.numel() / ((long) size * size);
        context.launch(kernels(), "fill_above_diagonal_f32", t.numel(), t, matrices, size, value);
    }

    @Override
    public void pickTargets(Tensor lsm, Tensor targets, int ignoreIndex, Tensor out) {
        context.launch(kernels(), "pick_targets_f32", targets.numel(), lsm, targets, out, targets.numel(), lsm.dim(1), ignoreIndex);
    }

    @Override
    public void crossEntropyBackward(Tensor lsm, Tensor targets, int ignoreIndex, float scale, Tensor out) {
        context.launch(kernels(), "cross_entropy_backward_f32", lsm.numel(), lsm, targets, out, targets.numel(),
                lsm.dim(1), ignoreIndex, scale);
    }

    @Override
    public void adamw(Tensor p, Tensor grad, Tensor m, Tensor v, AdamWStep s) {
        context.launch(kernels(), "adamw_f32", p.numel(), p, grad, m, v, p.numel(), s.lr(), s.beta1(), s.beta2(),
                s.eps(), s.weightDecay(), s.c1(), s.c2());
    }
}
