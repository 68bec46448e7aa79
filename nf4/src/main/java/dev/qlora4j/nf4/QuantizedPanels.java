package dev.qlora4j.nf4;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.spi.PanelSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A quantized weight W [out, in] as the B operand of a GEMM, decoded panel by panel, in either
 * orientation a linear layer needs:
 * <ul>
 *   <li>{@link Orientation#TRANSPOSED}: B = Wᵀ (k = in, n = out), for the forward {@code x·Wᵀ}. A
 *       panel column is a run of one row of W: it is decoded into a row buffer, then spread across
 *       the panel.</li>
 *   <li>{@link Orientation#AS_STORED}: B = W (k = out, n = in), for the input gradient
 *       {@code dY·W}. A panel row is a run of one row of W, decoded straight into the panel.</li>
 * </ul>
 * Only the {@code KC x NC} block being multiplied exists in f32 at any time.
 */
final class QuantizedPanels implements PanelSource {
    enum Orientation { TRANSPOSED, AS_STORED }

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** Floats of one row run decoded at a time for the transposed orientation. */
    private static final int RUN_FLOATS = 4096;
    /** The per-thread buffer that run is decoded into. */
    private static final ThreadLocal<MemorySegment> RUN = ThreadLocal.withInitial(
            () -> Arena.ofAuto().allocate((long) RUN_FLOATS * Float.BYTES, 64));

    /** Decodes elements [lo, hi) of W, row-major, as f32 into dst at byte offset at. */
    interface RunDecoder {
        void decode(long lo, long hi, MemorySegment dst, long at);
    }

    private final RunDecoder decoder;
    private final int cols; // in: W's row length
    private final Orientation orientation;

    QuantizedPanels(RunDecoder decoder, int cols, Orientation orientation) {
        this.decoder = decoder;
        this.cols = cols;
        this.orientation = orientation;
    }

    static QuantizedPanels of(QuantizedWeight w, Orientation orientation) {
        int cols = w.shape().dim(1);
        RunDecoder d = switch (w) {
            case FourBitWeight f -> {
                Dequantize.Decoder dec = Dequantize.Decoder.of(f);
                yield (lo, hi, dst, at) -> dec.decode(lo, hi, DType.F32, dst, at);
            }
            case Int8Weight q -> q::decode;
        };
        return new QuantizedPanels(d, cols, orientation);
    }

    @Override
    public void packPanels(int b, int pc, int kc, int jc, int nc, MemorySegment dst) {
        for (int jr = 0; jr < nc; jr += NR) {
            int width = Math.min(NR, nc - jr);
            long panel = (long) (jr / NR) * kc * NR * Float.BYTES;
            if (orientation == Orientation.AS_STORED) {
                // Row pc+p of W, columns jc+jr ..: contiguous, decoded in place; zero the padding.
                for (int p = 0; p < kc; p++) {
                    long row = (long) (pc + p) * cols + jc + jr;
                    long to = panel + (long) p * NR * Float.BYTES;
                    decoder.decode(row, row + width, dst, to);
                    for (int j = width; j < NR; j++) {
                        dst.set(F32, to + (long) j * Float.BYTES, 0f);
                    }
                }
            } else {
                MemorySegment run = RUN.get();
                for (int j = 0; j < NR; j++) {
                    long to = panel + (long) j * Float.BYTES;
                    if (j >= width) {
                        for (int p = 0; p < kc; p++, to += (long) NR * Float.BYTES) {
                            dst.set(F32, to, 0f);
                        }
                        continue;
                    }
                    // Row jc+jr+j of W, columns pc ..: decode the run, then spread it down the panel column.
                    long start = (long) (jc + jr + j) * cols + pc;
                    for (int p0 = 0; p0 < kc; p0 += RUN_FLOATS) {
                        int len = Math.min(RUN_FLOATS, kc - p0);
                        decoder.decode(start + p0, start + p0 + len, run, 0);
                        for (int p = 0; p < len; p++, to += (long) NR * Float.BYTES) {
                            dst.set(F32, to, run.get(F32, (long) p * Float.BYTES));
                        }
                    }
                }
            }
        }
    }

    /** Decoding plus a transpose for the forward orientation; a vector decode for the other. */
    @Override
    public double packCostPerElement() {
        return orientation == Orientation.TRANSPOSED ? 1.5 : 0.5;
    }
}
