package dev.qlora4j.nf4;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Shape;
import dev.qlora4j.engine.Tensor;

/**
 * A frozen weight stored quantized: packed data plus its quantization state. Owns its tensors;
 * closing it frees them.
 */
public sealed interface QuantizedWeight extends AutoCloseable permits FourBitWeight, Int8Weight {
    /** The shape of the weight it stands for, e.g. [out, in]. */
    Shape shape();

    /** The dtype the weight had before quantization (what bitsandbytes dequantizes back to). */
    DType originalDType();

    /** Where the packed data and scales live. */
    Device device();

    /**
     * The same weight with its tensors on {@code target}, as a new weight to close (this one stays
     * open); quantized weights move to a GPU as they are, never dequantized.
     */
    QuantizedWeight to(Device target);

    /** A new tensor of the dequantized values in {@code out} (F32 or BF16, rounded to nearest-even), on {@link #device()}. */
    Tensor dequantize(DType out);

    /** Every byte this weight holds: packed data, scales, nested state and code maps. */
    long footprintBytes();

    /** {@link #footprintBytes()} in bits per element of the weight. */
    default double bitsPerParameter() {
        return footprintBytes() * 8.0 / shape().numel();
    }

    @Override
    void close();
}
