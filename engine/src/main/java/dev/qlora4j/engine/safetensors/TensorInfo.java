package dev.qlora4j.engine.safetensors;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Shape;

/**
 * One tensor's entry in a safetensors header.
 *
 * @param dtype element type
 * @param shape dimensions, outermost first; the elements are stored in row-major order
 * @param begin offset of the first byte, from the start of the data section (the byte after the
 *              header), as the header's {@code data_offsets[0]}
 * @param end   offset one past the last byte, as {@code data_offsets[1]}
 */
public record TensorInfo(DType dtype, Shape shape, long begin, long end) {
    /** Bytes the tensor occupies in the file: {@code end - begin}. */
    public long byteSize() {
        return end - begin;
    }
}
