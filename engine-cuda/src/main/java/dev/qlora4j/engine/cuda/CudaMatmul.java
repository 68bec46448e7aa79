package dev.qlora4j.engine.cuda;

import dev.qlora4j.cuda.Cublas;
import dev.qlora4j.cuda.cublas_api_h;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Row-major {@code out[b] (+)= a[b] · b[b]} through {@code cublasGemmEx} /
 * {@code cublasGemmStridedBatchedEx}, which are column-major. A row-major matrix read as
 * column-major is its transpose, so we ask cuBLAS for {@code outᵀ = bᵀ · aᵀ}: an [n, m]
 * column-major result that is exactly the row-major [m, n] {@code out}. Each operand is passed as
 * stored — a row-major operand as "N" (its storage already is the transpose cuBLAS wants), a
 * transposed view as "T" — so transposes cost no copy.
 *
 * <p>Types: F32 × F32 in full FP32; otherwise both operands in BF16 (or F16 when neither is BF16),
 * the other one cast first, with FP32 accumulation and an F32 result.
 */
final class CudaMatmul {
    private static final MemorySegment ONE = Arena.global().allocateFrom(ValueLayout.JAVA_FLOAT, 1f);
    private static final MemorySegment ZERO = Arena.global().allocateFrom(ValueLayout.JAVA_FLOAT, 0f);

    private CudaMatmul() {
    }

    /**
     * How a 2-D operand [rows, cols] is stored, for cuBLAS: row-major with leading dimension
     * {@code ld} ({@code transposed = false}), or column-major ({@code transposed = true}).
     */
    record Layout(boolean transposed, long ld) {
        /** The layout of t's last two axes, or null when neither axis is unit-stride (a copy is needed). */
        static Layout of(Tensor t) {
            int rows = t.dim(-2);
            int cols = t.dim(-1);
            long s0 = t.stride(-2);
            long s1 = t.stride(-1);
            if ((cols == 1 || s1 == 1) && (rows == 1 || s0 >= cols)) {
                return new Layout(false, rows == 1 ? Math.max(cols, 1) : s0);
            }
            if ((rows == 1 || s0 == 1) && (cols == 1 || s1 >= rows)) {
                return new Layout(true, cols == 1 ? Math.max(rows, 1) : s1);
            }
            return null;
        }
    }

    static void matmul(CudaContext context, Tensor a, Tensor b, Tensor out, boolean accumulate) {
        // cuBLAS takes raw pointers: a host tensor's address, or another GPU's, would be read as
        // this device's memory (an illegal address that ends the context), so refuse it here.
        for (Tensor t : new Tensor[]{a, b, out}) {
            if (!t.device().equals(context.device())) {
                throw new IllegalArgumentException("matmul on " + context.device() + ": operand " + t.describe()
                        + " is on " + t.device());
            }
        }
        int m = a.dim(-2);
        int k = a.dim(-1);
        int n = b.dim(-1);
        if (out.numel() == 0) {
            return;
        }
        if (out.dtype() == DType.BF16 && commonType(a.dtype(), b.dtype()) != DType.BF16) {
            // cuBLAS writes BF16 only from BF16 inputs: F32 (or F16) products are rounded after.
            try (Tensor f32 = Tensor.empty(DType.F32, out.shape(), out.device())) {
                matmul(context, a, b, f32, false);
                context.backend().copy(f32, out);
            }
            return;
        }
        boolean outView = !out.isContiguous();
        if (outView && (out.rank() != 2 || out.stride(1) != 1)) {
            throw new IllegalArgumentException("matmul into " + out.describe() + ": the result must be contiguous, or a 2-D view of rows");
        }
        DType type = commonType(a.dtype(), b.dtype());
        try (Tensor ac = operand(a, type); Tensor bc = operand(b, type)) {
            int batch = (int) (out.numel() / ((long) m * n));
            if (k == 0) {
                if (!accumulate) {
                    try (Tensor zeros = Tensor.zeros(out.dtype(), out.shape(), out.device())) {
                        context.backend().copy(zeros, out);
                    }
                }
                return;
            }
            if (bc.rank() == 2 && batch > 1 && ac.isContiguous()) {
                // A weight shared by every batch: one taller product of [batch·m, k] rows.
                gemm(context, ac, bc, out, batch * m, n, k, 1, 0, 0, accumulate);
                return;
            }
            long strideA = ac.matrixBatchStride();
            long strideB = bc.rank() == 2 ? 0 : bc.matrixBatchStride();
            if (strideA < 0 || strideB < 0) {
                try (Tensor a2 = strideA < 0 ? ac.contiguous() : ac.slice(0, 0, ac.dim(0));
                     Tensor b2 = strideB < 0 ? bc.contiguous() : bc.slice(0, 0, bc.dim(0))) {
                    matmul(context, a2, b2, out, accumulate);
                }
                return;
            }
            gemm(context, ac, bc, out, m, n, k, batch, strideA, strideB, accumulate);
        }
    }

    private static void gemm(CudaContext context, Tensor a, Tensor b, Tensor out, int m, int n, int k, int batch,
                             long strideA, long strideB, boolean accumulate) {
        Layout la = Layout.of(a);
        Layout lb = Layout.of(b);
        if (la == null || lb == null) {
            try (Tensor a2 = la == null ? a.contiguous() : a.slice(0, 0, a.dim(0));
                 Tensor b2 = lb == null ? b.contiguous() : b.slice(0, 0, b.dim(0))) {
                gemm(context, a2, b2, out, m, n, k, batch, la == null ? (long) m * k : strideA,
                        lb == null && b.rank() > 2 ? (long) k * n : strideB, accumulate);
            }
            return;
        }
        int dataType = cudaType(a.dtype());
        int ldc = out.isContiguous() ? n : (int) out.stride(0);
        int opB = lb.transposed() ? cublas_api_h.CUBLAS_OP_T() : cublas_api_h.CUBLAS_OP_N();
        int opA = la.transposed() ? cublas_api_h.CUBLAS_OP_T() : cublas_api_h.CUBLAS_OP_N();
        MemorySegment pa = address(a);
        MemorySegment pb = address(b);
        MemorySegment pc = address(out);
        MemorySegment beta = accumulate ? ONE : ZERO;
        // BF16 products may be written as BF16 directly: F32 accumulation, rounded once by cuBLAS.
        int outType = out.dtype() == DType.BF16 ? cublas_api_h.CUDA_R_16BF() : cublas_api_h.CUDA_R_32F();
        context.activate();
        if (batch == 1) {
            // cuBLAS may allocate a workspace outside the pool: on failure the pool is trimmed and the call retried.
            Cublas.check(context.retryingAfterTrim(() -> cublas_api_h.cublasGemmEx(context.cublas(), opB, opA, n, m, k, ONE,
                    pb, dataType, (int) lb.ld(), pa, dataType, (int) la.ld(), beta,
                    pc, outType, ldc, cublas_api_h.CUBLAS_COMPUTE_32F(), cublas_api_h.CUBLAS_GEMM_DEFAULT()),
                    cublas_api_h.CUBLAS_STATUS_ALLOC_FAILED()), "cublasGemmEx");
        } else {
            Cublas.check(context.retryingAfterTrim(() -> cublas_api_h.cublasGemmStridedBatchedEx(context.cublas(), opB, opA,
                    n, m, k, ONE, pb, dataType, (int) lb.ld(), strideB, pa, dataType, (int) la.ld(), strideA, beta,
                    pc, outType, n, (long) m * n, batch,
                    cublas_api_h.CUBLAS_COMPUTE_32F(), cublas_api_h.CUBLAS_GEMM_DEFAULT()),
                    cublas_api_h.CUBLAS_STATUS_ALLOC_FAILED()), "cublasGemmStridedBatchedEx");
        }
    }

    /** F32 when both are F32; BF16 when either is; else F16. */
    static DType commonType(DType a, DType b) {
        if (a == DType.F32 && b == DType.F32) {
            return DType.F32;
        }
        return a == DType.BF16 || b == DType.BF16 ? DType.BF16 : DType.F16;
    }

    /** t as a view to close, or — when its dtype differs — a cast copy. */
    private static Tensor operand(Tensor t, DType type) {
        return t.dtype() == type ? t.slice(0, 0, t.dim(0)) : Ops.cast(t, type);
    }

    private static int cudaType(DType t) {
        return switch (t) {
            case F32 -> cublas_api_h.CUDA_R_32F();
            case BF16 -> cublas_api_h.CUDA_R_16BF();
            case F16 -> cublas_api_h.CUDA_R_16F();
            default -> throw new IllegalArgumentException("matmul: dtype " + t + " is not a cuBLAS input type");
        };
    }

    private static MemorySegment address(Tensor t) {
        return MemorySegment.ofAddress(CudaContext.address(t));
    }
}
