package dev.qlora4j.nf4;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Shape;
import dev.qlora4j.engine.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Objects;

/**
 * A weight in bitsandbytes' blockwise 4-bit format (NF4 or FP4), with or without double
 * quantization of its per-block absmax — the same numbers and bytes bitsandbytes' CUDA kernels
 * produce, so a checkpoint written from this loads there and back.
 *
 * <p>Layout: {@code packed} is U8 {@code [(n+1)/2, 1]}, element 2j in the high nibble of byte j;
 * blocks of {@code blocksize} consecutive row-major elements share one absmax. Without double
 * quantization the absmax is F32 {@code [nb]}; with it, it is U8 codes {@code [nb]} of
 * {@link DynamicMap}, one F32 {@code nestedAbsmax} per 256 blocks and an F32 {@code offset}.
 */
public final class FourBitWeight implements QuantizedWeight {
    /** Block sizes bitsandbytes accepts. */
    public static final int[] BLOCK_SIZES = {32, 64, 128, 256, 512, 1024, 2048, 4096};
    /** Blocks of absmax values per nested absmax in double quantization. */
    public static final int NESTED_BLOCKSIZE = 256;

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final QuantType type;
    private final int blocksize;
    private final DType originalDType;
    private final Shape shape;
    private final Tensor packed;
    private final Tensor absmax;       // F32 [nb], or U8 [nb] codes with double quant
    private final Tensor nestedAbsmax; // F32 [ceil(nb/256)] with double quant, else null
    private final float offset;
    private final float[] nestedCode;  // 256 values with double quant, else null

    FourBitWeight(QuantType type, int blocksize, DType originalDType, Shape shape, Tensor packed, Tensor absmax,
                  Tensor nestedAbsmax, float offset, float[] nestedCode) {
        this.type = type;
        this.blocksize = blocksize;
        this.originalDType = originalDType;
        this.shape = shape;
        this.packed = packed;
        this.absmax = absmax;
        this.nestedAbsmax = nestedAbsmax;
        this.offset = offset;
        this.nestedCode = nestedCode;
    }

    /**
     * @throws IllegalArgumentException naming the accepted sizes when {@code blocksize} is not one
     */
    public static void checkBlocksize(String op, int blocksize) {
        if (Arrays.stream(BLOCK_SIZES).noneMatch(b -> b == blocksize)) {
            throw new IllegalArgumentException(op + ": block size " + blocksize + " is not supported; expected one of "
                    + Arrays.toString(BLOCK_SIZES));
        }
    }

    /**
     * Quantizes a floating-point tensor (F32, BF16 or F16, any layout) blockwise to 4 bits.
     *
     * @param doubleQuant also quantize the absmax values to 8 bits (QLoRA's "double quantization")
     */
    public static FourBitWeight quantize(Tensor w, QuantType type, int blocksize, boolean doubleQuant) {
        Objects.requireNonNull(type, "type");
        w.checkOpen("quantize");
        checkBlocksize("quantize", blocksize);
        if (!w.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("quantize: " + w.describe() + " has dtype " + w.dtype()
                    + "; expected F32, BF16 or F16");
        }
        if (w.numel() == 0) {
            // No block, so no absmax to store or average: nothing a 4-bit weight could hold.
            throw new IllegalArgumentException("quantize: " + w.describe() + " has no elements; expected at least one");
        }
        float[] x;
        try (Tensor c = Ops.cast(w, DType.F32)) {
            x = c.toFloatArray();
        }
        BlockwiseQuantizer.Result q = BlockwiseQuantizer.quantize4Bit(x, type, blocksize);
        Tensor packed = Tensor.empty(DType.U8, (x.length + 1) / 2, 1);
        MemorySegment.copy(q.packed(), 0, packed.segment(), ValueLayout.JAVA_BYTE, packed.byteOffset(), q.packed().length);
        if (!doubleQuant) {
            return new FourBitWeight(type, blocksize, w.dtype(), w.shape(), packed, Tensor.of(q.absmax(), q.absmax().length),
                    null, 0f, null);
        }
        BlockwiseQuantizer.Nested n = BlockwiseQuantizer.doubleQuantize(q.absmax());
        Tensor codes = Tensor.empty(DType.U8, n.codes().length);
        MemorySegment.copy(n.codes(), 0, codes.segment(), ValueLayout.JAVA_BYTE, codes.byteOffset(), n.codes().length);
        return new FourBitWeight(type, blocksize, w.dtype(), w.shape(), packed, codes,
                Tensor.of(n.nestedAbsmax(), n.nestedAbsmax().length), n.offset(), DynamicMap.values());
    }

    /** The 4-bit codebook, NF4 or FP4. */
    public QuantType type() {
        return type;
    }

    /** How many consecutive row-major elements share one absmax; one of {@link #BLOCK_SIZES}. */
    public int blocksize() {
        return blocksize;
    }

    /** Whether the absmax values are themselves quantized to U8 codes of {@link DynamicMap} (double quantization). */
    public boolean doubleQuant() {
        return nestedAbsmax != null;
    }

    @Override
    public Shape shape() {
        return shape;
    }

    @Override
    public DType originalDType() {
        return originalDType;
    }

    /** The packed codes, U8 [(n+1)/2, 1]. Owned by this weight. */
    public Tensor packed() {
        return packed;
    }

    /** F32 [nb] without double quant; U8 [nb] codes with it. Owned by this weight. */
    public Tensor absmaxTensor() {
        return absmax;
    }

    /** F32 [ceil(nb/256)] with double quant, else null. Owned by this weight. */
    public Tensor nestedAbsmax() {
        return nestedAbsmax;
    }

    /** The mean subtracted before double quantization; 0 without it. */
    public float offset() {
        return offset;
    }

    /** The 256-value map of the nested codes (a copy), or null without double quant. */
    public float[] nestedCode() {
        return nestedCode == null ? null : nestedCode.clone();
    }

    /** Number of blocks. */
    public int blocks() {
        return (int) ((shape.numel() + blocksize - 1) / blocksize);
    }

    /**
     * The per-block absmax in f32, reconstructed as bitsandbytes does under double quantization:
     * {@code fl32(fl32(code[q] * nestedAbsmax[i/256]) + offset)}.
     */
    public float[] absmax() {
        packed.checkOpen("absmax");
        // Read where the bytes are readable: the host (for a weight already there, a view).
        try (FourBitWeight host = to(Device.CPU)) {
            BlockScales s = host.scales();
            float[] a = new float[blocks()];
            for (int i = 0; i < a.length; i++) {
                a[i] = s.of(i);
            }
            return a;
        }
    }

    /** Reads block scales from this weight's tensors; valid while the weight is open. */
    BlockScales scales() {
        packed.checkOpen("block scales");
        return doubleQuant()
                ? new BlockScales(absmax.segment(), absmax.byteOffset(), nestedAbsmax.segment(), nestedAbsmax.byteOffset(),
                nestedCode, offset)
                : new BlockScales(absmax.segment(), absmax.byteOffset(), null, 0, null, 0f);
    }

    @Override
    public Device device() {
        return packed.device();
    }

    @Override
    public FourBitWeight to(Device target) {
        return new FourBitWeight(type, blocksize, originalDType, shape, packed.to(target), absmax.to(target),
                nestedAbsmax == null ? null : nestedAbsmax.to(target), offset, nestedCode);
    }

    @Override
    public Tensor dequantize(DType out) {
        packed.checkOpen("dequantize");
        if (out != DType.F32 && out != DType.BF16) {
            throw new IllegalArgumentException("dequantize " + this + ": output dtype " + out + ", expected F32 or BF16");
        }
        return QuantizedKernels.of(device()).dequantize(this, out);
    }

    /**
     * Packed bytes + absmax (4 bytes a block, or 1 with double quant plus 4 per nested block and the
     * 256-entry nested map) + the 16-entry quant map: what the checkpoint's tensors occupy.
     */
    @Override
    public long footprintBytes() {
        return footprintBytes(shape.numel(), blocksize(), doubleQuant());
    }

    /**
     * The bytes of the tensors an {@code n}-element weight allocates — packed codes, absmax, and with
     * double quant the nested absmax — without quantizing one; the code maps live on the Java heap.
     */
    public static long[] tensorBytes(long n, int blocksize, boolean doubleQuant) {
        long nb = (n + blocksize - 1) / blocksize;
        return doubleQuant ? new long[]{(n + 1) / 2, nb, ((nb + NESTED_BLOCKSIZE - 1) / NESTED_BLOCKSIZE) * Float.BYTES}
                : new long[]{(n + 1) / 2, nb * Float.BYTES};
    }

    /** {@link #footprintBytes()} of an {@code n}-element weight, without quantizing one. */
    public static long footprintBytes(long n, int blocksize, boolean doubleQuant) {
        long nb = (n + blocksize - 1) / blocksize;
        long bytes = (n + 1) / 2 + 16 * Float.BYTES;
        if (doubleQuant) {
            bytes += nb + ((nb + NESTED_BLOCKSIZE - 1) / NESTED_BLOCKSIZE) * Float.BYTES + 256 * Float.BYTES;
        } else {
            bytes += nb * Float.BYTES;
        }
        return bytes;
    }

    @Override
    public void close() {
        packed.close();
        absmax.close();
        if (nestedAbsmax != null) {
            nestedAbsmax.close();
        }
    }

    @Override
    public String toString() {
        return type.jsonName() + " " + shape + " blocksize " + blocksize + (doubleQuant() ? " +double-quant" : "");
    }
}
