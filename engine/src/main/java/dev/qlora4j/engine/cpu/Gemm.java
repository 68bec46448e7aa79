package dev.qlora4j.engine.cpu;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.spi.Bf16Vectors;
import dev.qlora4j.engine.spi.PanelSource;
import dev.qlora4j.engine.spi.VectorWidth;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Batched GEMM {@code C[b] = A[b]·B[b] (+ C[b])} with F32, BF16 or F16 inputs, F32 accumulation and an
 * F32 output, organised as in BLIS/OpenBLAS: B is packed into panels of {@link #NR} columns (by its
 * {@link PanelSource}, which may decode a quantized weight), A into
 * panels of {@link #MR} rows, and a register-blocked {@code MR x NR} micro-kernel keeps 12
 * accumulators in vector registers — per k, two B vectors, six broadcast A values, twelve FMAs. Packing is where dtype and transposition are
 * handled, so one micro-kernel serves every input type and transpose combination.
 *
 * <p>Blocking, measured on a 2-core AVX-512 Zen 4: a {@code KC x NR} panel of packed B (128 KiB at
 * KC = 1024) is reused from L2 while the micro-kernel walks down an {@code MC x KC} block of packed
 * A; a deep KC keeps the number of read-modify-write passes over C low, which costs more than
 * the L1 residency a shallow KC would buy. Tune with {@code qlora4j.gemm.kc/mc/nc}. Each thread
 * keeps its packing buffers (about 4.5 MiB at the defaults) for its lifetime.
 *
 * <p>The test kit's {@code GemmReference} is the f64 scalar oracle for this kernel.
 */
public final class Gemm {
    private static final VectorSpecies<Float> S = VectorWidth.FLOATS;
    private static final int L = S.length();
    static final int MR = 6;
    static final int NR = PanelSource.NR;
    private static final int KC = Integer.getInteger("qlora4j.gemm.kc", 1024);
    private static final int MC = roundUp(Integer.getInteger("qlora4j.gemm.mc", 96), MR);
    private static final int NC = roundUp(Integer.getInteger("qlora4j.gemm.nc", 1024), NR);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /** Per-thread packing buffers, allocated once per thread for the thread's lifetime. */
    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    private Gemm() {
    }

    private static int roundUp(int x, int multiple) {
        return (x + multiple - 1) / multiple * multiple;
    }

    private static final class Workspace {
        // Arena.ofAuto: the buffers live as long as the thread that uses them.
        final MemorySegment packedA = Arena.ofAuto().allocate((long) MC * KC * Float.BYTES, 64);
        final MemorySegment packedB = Arena.ofAuto().allocate((long) NC * KC * Float.BYTES, 64);
        final MemorySegment tile = Arena.ofAuto().allocate((long) MR * NR * Float.BYTES, 64);
    }

    /**
     * Computes {@code batch} products of {@code [m x k]} by {@code [k x n]} matrices into F32 C.
     *
     * @param accumulate add to C instead of overwriting it
     */
    public static void gemm(ParallelPool pool, int batch, int m, int n, int k, MatrixOperand a, PanelSource b,
                            MatrixOperand c, boolean accumulate) {
        if (c.dtype() != DType.F32 || c.colStride() != 1) {
            throw new IllegalArgumentException("gemm: C must be F32 with unit column stride, got " + c);
        }
        if (batch == 0 || m == 0 || n == 0) {
            return;
        }
        // Split each product into tiles so that every thread has work even for a single matrix.
        // Each tile packs its own panels, so a split along n repacks all of A in every tile and a
        // split along m repacks all of B: split the side whose repacking costs less. Packing A, and
        // B when it is transposed, is a scalar transpose; packing row-major B is a vector copy.
        int threads = pool.threads();
        int perMatrix = batch >= threads ? 1 : (threads + batch - 1) / batch;
        int mTiles = 1;
        int nTiles = 1;
        if (perMatrix > 1) {
            if (n * b.packCostPerElement() < m && m >= perMatrix * MR) {
                mTiles = Math.min(perMatrix, (m + MR - 1) / MR);
            } else {
                nTiles = Math.min(perMatrix, (n + NR - 1) / NR);
            }
        }
        int mStep = roundUp((m + mTiles - 1) / mTiles, MR);
        int nStep = roundUp((n + nTiles - 1) / nTiles, NR);
        int tilesM = (m + mStep - 1) / mStep;
        int tilesN = (n + nStep - 1) / nStep;
        int tilesPerMatrix = tilesM * tilesN;
        pool.run(batch * tilesPerMatrix, t -> {
            int bi = t / tilesPerMatrix;
            int index = t % tilesPerMatrix;
            int m0 = (index / tilesN) * mStep;
            int n0 = (index % tilesN) * nStep;
            tile(bi, m0, Math.min(m, m0 + mStep), n0, Math.min(n, n0 + nStep), k, a, b, c, accumulate);
        });
    }

    /** C[b][m0:m1, n0:n1] on the current thread. */
    private static void tile(int bi, int m0, int m1, int n0, int n1, int k, MatrixOperand a, PanelSource b,
                             MatrixOperand c, boolean accumulate) {
        Workspace ws = WORKSPACE.get();
        MemorySegment cs = c.segment();
        long ldc = c.rowStride() * Float.BYTES;
        if (k == 0) {
            if (!accumulate) {
                for (int i = m0; i < m1; i++) {
                    cs.asSlice(c.byteIndex(bi, i, n0), (long) (n1 - n0) * Float.BYTES).fill((byte) 0);
                }
            }
            return;
        }
        for (int jc = n0; jc < n1; jc += NC) {
            int nc = Math.min(NC, n1 - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                b.packPanels(bi, pc, kc, jc, nc, ws.packedB);
                boolean add = accumulate || pc > 0;
                for (int ic = m0; ic < m1; ic += MC) {
                    int mc = Math.min(MC, m1 - ic);
                    packA(a, bi, ic, mc, pc, kc, ws.packedA);
                    for (int jr = 0; jr < nc; jr += NR) {
                        long bPanel = (long) (jr / NR) * kc * NR * Float.BYTES;
                        int cols = Math.min(NR, nc - jr);
                        for (int ir = 0; ir < mc; ir += MR) {
                            int rows = Math.min(MR, mc - ir);
                            long cIndex = c.byteIndex(bi, ic + ir, jc + jr);
                            long aPanel = (long) (ir / MR) * kc * MR * Float.BYTES;
                            kernel(kc, ws.packedA, aPanel, ws.packedB, bPanel, ws.tile);
                            mergeTile(ws.tile, cs, cIndex, ldc, rows, cols, add);
                        }
                    }
                }
            }
        }
    }

    /**
     * The micro-kernel: tile = A·B over {@code kc} for one MR x NR tile, from one packed A panel (MR
     * floats per p) and one packed B panel (NR floats per p).
     */
    private static void kernel(int kc, MemorySegment a, long aBase, MemorySegment b, long bBase, MemorySegment tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        long ap = aBase;
        long bp = bBase;
        for (int p = 0; p < kc; p++, ap += MR * Float.BYTES, bp += (long) NR * Float.BYTES) {
            FloatVector b0 = FloatVector.fromMemorySegment(S, b, bp, LE);
            FloatVector b1 = FloatVector.fromMemorySegment(S, b, bp + (long) L * Float.BYTES, LE);
            FloatVector x = FloatVector.broadcast(S, a.get(FLOAT, ap));
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a.get(FLOAT, ap + 4));
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a.get(FLOAT, ap + 8));
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a.get(FLOAT, ap + 12));
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a.get(FLOAT, ap + 16));
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a.get(FLOAT, ap + 20));
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
        }
        // Accumulators go to the tile first: the kernel stays one straight-line block the JIT keeps
        // in registers, and one routine merges full and edge tiles into C.
        long row = (long) NR * Float.BYTES;
        long half = (long) L * Float.BYTES;
        c00.intoMemorySegment(tile, 0, LE);
        c01.intoMemorySegment(tile, half, LE);
        c10.intoMemorySegment(tile, row, LE);
        c11.intoMemorySegment(tile, row + half, LE);
        c20.intoMemorySegment(tile, 2 * row, LE);
        c21.intoMemorySegment(tile, 2 * row + half, LE);
        c30.intoMemorySegment(tile, 3 * row, LE);
        c31.intoMemorySegment(tile, 3 * row + half, LE);
        c40.intoMemorySegment(tile, 4 * row, LE);
        c41.intoMemorySegment(tile, 4 * row + half, LE);
        c50.intoMemorySegment(tile, 5 * row, LE);
        c51.intoMemorySegment(tile, 5 * row + half, LE);
    }

    /** C[0:rows, 0:cols] = (C +) tile, where the tile holds MR rows of NR floats. */
    private static void mergeTile(MemorySegment tile, MemorySegment c, long cBase, long ldc, int rows, int cols,
                                  boolean accumulate) {
        long row = (long) NR * Float.BYTES;
        if (cols == NR) {
            for (int i = 0; i < rows; i++) {
                for (int h = 0; h < 2; h++) {
                    long t = i * row + (long) h * L * Float.BYTES;
                    long at = cBase + i * ldc + (long) h * L * Float.BYTES;
                    FloatVector v = FloatVector.fromMemorySegment(S, tile, t, LE);
                    if (accumulate) {
                        v = v.add(FloatVector.fromMemorySegment(S, c, at, LE));
                    }
                    v.intoMemorySegment(c, at, LE);
                }
            }
            return;
        }
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                float v = tile.get(FLOAT, i * row + (long) j * Float.BYTES);
                long at = cBase + i * ldc + (long) j * Float.BYTES;
                c.set(FLOAT, at, accumulate ? c.get(FLOAT, at) + v : v);
            }
        }
    }

    /** {@link PanelSource#packPanels} for a matrix in memory. */
    static void packB(MatrixOperand b, int bi, int pc, int kc, int jc, int nc, MemorySegment dst) {
        MemorySegment src = b.segment();
        for (int jr = 0; jr < nc; jr += NR) {
            int cols = Math.min(NR, nc - jr);
            long panel = (long) (jr / NR) * kc * NR * Float.BYTES;
            if (b.colStride() == 1 && cols == NR && (b.dtype() == DType.F32 || b.dtype() == DType.BF16)) {
                // Rows of the panel are contiguous in B: vector loads that widen 16-bit types on the way.
                for (int p = 0; p < kc; p++) {
                    long from = b.byteIndex(bi, pc + p, jc + jr);
                    long to = panel + (long) p * NR * Float.BYTES;
                    loadFloats(b.dtype(), src, from).intoMemorySegment(dst, to, LE);
                    loadFloats(b.dtype(), src, from + (long) L * b.dtype().byteSize())
                            .intoMemorySegment(dst, to + (long) L * Float.BYTES, LE);
                }
            } else {
                // Transposed (or strided) B: walk each source column along its contiguous direction.
                for (int j = 0; j < NR; j++) {
                    long to = panel + (long) j * Float.BYTES;
                    if (j >= cols) {
                        for (int p = 0; p < kc; p++, to += (long) NR * Float.BYTES) {
                            dst.set(FLOAT, to, 0f);
                        }
                        continue;
                    }
                    long from = b.byteIndex(bi, pc, jc + jr + j);
                    long step = b.rowStride() * b.dtype().byteSize();
                    for (int p = 0; p < kc; p++, from += step, to += (long) NR * Float.BYTES) {
                        dst.set(FLOAT, to, b.dtype().readFloat(src, from));
                    }
                }
            }
        }
    }

    /**
     * Packs A[ic:ic+mc, pc:pc+kc] into panels of MR rows: panel q holds, for each p, the MR values
     * A(ic+q*MR .. +MR, pc+p), zero-padded past row mc.
     */
    private static void packA(MatrixOperand a, int bi, int ic, int mc, int pc, int kc, MemorySegment dst) {
        MemorySegment src = a.segment();
        for (int ir = 0; ir < mc; ir += MR) {
            int rows = Math.min(MR, mc - ir);
            long panel = (long) (ir / MR) * kc * MR * Float.BYTES;
            for (int i = 0; i < MR; i++) {
                long to = panel + (long) i * Float.BYTES;
                if (i >= rows) {
                    for (int p = 0; p < kc; p++, to += (long) MR * Float.BYTES) {
                        dst.set(FLOAT, to, 0f);
                    }
                    continue;
                }
                long from = a.byteIndex(bi, ic + ir + i, pc);
                long step = a.colStride() * a.dtype().byteSize();
                for (int p = 0; p < kc; p++, from += step, to += (long) MR * Float.BYTES) {
                    dst.set(FLOAT, to, a.dtype().readFloat(src, from));
                }
            }
        }
    }

    /** L consecutive F32 or BF16 elements as a float vector. */
    private static FloatVector loadFloats(DType t, MemorySegment s, long at) {
        return t == DType.BF16 ? Bf16Vectors.widen(s, at) : FloatVector.fromMemorySegment(S, s, at, LE);
    }
}
