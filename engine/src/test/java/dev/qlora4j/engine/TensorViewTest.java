package dev.qlora4j.engine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Views share storage and index as their definitions say. */
class TensorViewTest {
    private static Tensor iota(int... dims) {
        float[] v = new float[(int) Shape.of(dims).numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        return Tensor.of(v, dims);
    }

    @Test
    void transposeSwapsIndicesAndSharesStorage() {
        try (Tensor t = iota(2, 3, 4); Tensor v = t.transpose(0, 2)) {
            assertEquals(Shape.of(4, 3, 2), v.shape());
            assertFalse(v.isContiguous());
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 3; j++) {
                    for (int k = 0; k < 4; k++) {
                        assertEquals(i * 12 + j * 4 + k, v.getFloat(k, j, i));
                    }
                }
            }
            v.setFloat(-1f, 3, 2, 1);
            assertEquals(-1f, t.getFloat(1, 2, 3), "a write through the view lands in the base");
        }
    }

    @Test
    void sliceAndReshape() {
        try (Tensor t = iota(4, 6); Tensor s = t.slice(1, 2, 5); Tensor r = t.reshape(3, -1); Tensor c = s.reshape(-1)) {
            assertEquals(Shape.of(4, 3), s.shape());
            assertEquals(Shape.of(3, 8), r.shape());
            assertEquals(14f, s.getFloat(2, 0));
            assertEquals(11f, r.getFloat(1, 3));
            assertArrayEquals(new float[]{2, 3, 4, 8, 9, 10, 14, 15, 16, 20, 21, 22}, c.toFloatArray());
            assertTrue(c.isContiguous());
        }
    }

    @Test
    void badViewsAreRejectedWithTheShapes() {
        try (Tensor t = iota(4, 6)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.reshape(5, 5));
            assertTrue(e.getMessage().contains("[4, 6]") && e.getMessage().contains("24"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> t.reshape(-1, -1));
            assertThrows(IllegalArgumentException.class, () -> t.slice(0, 3, 5));
            assertThrows(IllegalArgumentException.class, () -> t.transpose(0, 2));
            assertThrows(IndexOutOfBoundsException.class, () -> t.getFloat(4, 0));
            assertThrows(IllegalArgumentException.class, () -> t.getFloat(1));
        }
    }

    @Test
    void dtypeConversionsOnElementAccess() {
        try (Tensor i8 = Tensor.zeros(DType.I8, 3); Tensor u8 = Tensor.zeros(DType.U8, 2); Tensor bf = Tensor.zeros(DType.BF16, 1)) {
            i8.setFloat(-128f, 0);
            u8.setFloat(255f, 1);
            assertEquals(-128f, i8.getFloat(0));
            assertEquals(255f, u8.getFloat(1));
            assertThrows(IllegalArgumentException.class, () -> i8.setFloat(1.5f, 1));
            assertThrows(IllegalArgumentException.class, () -> u8.setFloat(-1f, 0));
            bf.setFloat(1.00390625f, 0); // exactly between two bf16 values: ties to even (1.0)
            assertEquals(1.0f, bf.getFloat(0));
        }
    }
}
