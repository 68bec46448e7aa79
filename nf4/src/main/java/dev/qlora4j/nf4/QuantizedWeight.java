package dev.qlora4j.nf4;

import dev.qlora4j.engine.DType;
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

    /** A new tensor of the dequantized values in {@code out} (F32 or BF16, rounded to nearest-even). */
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
