package dev.qlora4j.engine.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Device;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.Shape;
import dev.qlora4j.engine.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Reading: round trips through {@link SafetensorsWriter}, hand-made files, zero copy, and lifetime. */
class SafetensorsFileTest {
    @TempDir
    Path dir;

    /** Six values every dtype holds exactly. */
    private static float[] values(DType dtype) {
        return switch (dtype) {
            case F32 -> new float[] {1.5f, -2f, 3.1415927f, 0f, 1e-30f, -7e20f};
            case BF16, F16 -> new float[] {1f, -2f, 0.5f, 256f, -0.125f, 3f};
            case I8 -> new float[] {-128, 127, 0, -1, 5, 9};
            case U8 -> new float[] {0, 255, 1, 128, 7, 9};
            case I32 -> new float[] {-16777216, 16777216, 0, -1, 123456, 7};
        };
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void roundTripsEveryDtypeAndLayout(DType dtype) throws IOException {
        float[] v = values(dtype);
        Path file = dir.resolve("round-trip.safetensors");
        try (Tensor matrix = Tensor.of(dtype, v, 2, 3);
             Tensor scalar = Tensor.of(dtype, new float[] {v[1]});
             Tensor empty = Tensor.empty(dtype, 0, 3);
             Tensor transposed = matrix.transpose(0, 1);
             Tensor columns = matrix.slice(1, 1, 3);
             Tensor secondRow = matrix.slice(0, 1, 2)) {
            assertFalse(transposed.isContiguous());
            assertFalse(columns.isContiguous());
            assertTrue(secondRow.isContiguous() && secondRow.offset() == 3, "a contiguous view that starts inside its storage");
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            tensors.put("matrix", matrix);
            tensors.put("scalar", scalar);
            tensors.put("empty", empty);
            tensors.put("transposed", transposed);
            tensors.put("columns", columns);
            tensors.put("second_row", secondRow);
            SafetensorsWriter.write(file, tensors);

            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                assertEquals(List.copyOf(tensors.keySet()), f.names());
                for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                    try (Tensor read = f.tensor(e.getKey())) {
                        assertEquals(dtype, read.dtype(), e.getKey());
                        assertEquals(e.getValue().shape(), read.shape(), e.getKey());
                        assertEquals(Device.CPU, read.device());
                        assertArrayEquals(e.getValue().toFloatArray(), read.toFloatArray(), e.getKey());
                    }
                }
                assertEquals(Shape.of(), f.info("scalar").shape());
                assertEquals(0, f.info("empty").byteSize());
                assertTrue(f.metadata().isEmpty());
            }
        }
    }

    @Test
    void roundTripsMetadataInOrder() throws IOException {
        Path file = dir.resolve("meta.safetensors");
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        metadata.put("note", "quotes \" backslash \\ newline \n unicode \u00e9\uD83D\uDE00");
        metadata.put("", "");
        try (Tensor t = Tensor.of(new float[] {1, 2}, 2)) {
            SafetensorsWriter.write(file, Map.of("w", t), metadata);
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(metadata, f.metadata());
            assertEquals(List.copyOf(metadata.keySet()), List.copyOf(f.metadata().keySet()));
            assertThrows(UnsupportedOperationException.class, () -> f.metadata().put("x", "y"));
        }
    }

    @Test
    void aFileWithNoTensors() throws IOException {
        Path file = dir.resolve("none.safetensors");
        SafetensorsWriter.write(file, Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(List.of(), f.names());
            assertTrue(f.metadata().isEmpty());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.tensor("w"));
            assertTrue(e.getMessage().endsWith("it holds 0 tensors"), e.getMessage());
        }
    }

    /** A file assembled by hand, independent of the writer: unpadded header, unaligned data, every dtype. */
    @Test
    void readsAHandMadeFile() throws IOException {
        String header = "{\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]},"
                + "\"f\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[3,11]},"
                + "\"h\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[11,15]},"
                + "\"g\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[15,17]},"
                + "\"i\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[17,21]},"
                + "\"s\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[21,23]},"
                + "\"z\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[23,23]},"
                + "\"__metadata__\":{\"k\":\"v\"}}";
        byte[] data = {
            1, 2, (byte) 255,                                                        // U8 1 2 255
            0, 0, (byte) 0x80, 0x3F, 0, 0, 0, (byte) 0xC0,                           // F32 1.0 -2.0
            (byte) 0x80, 0x3F, 0x40, (byte) 0xC0,                                    // BF16 1.0 -3.0
            0x00, 0x38,                                                              // F16 0.5
            (byte) 0xFE, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF,                      // I32 -2
            (byte) 0x80, 0x7F,                                                       // I8 -128 127
        };
        try (SafetensorsFile f = SafetensorsFile.open(HandMadeFiles.write(dir, header, data))) {
            assertEquals(List.of("b", "f", "h", "g", "i", "s", "z"), f.names());
            assertEquals(Map.of("k", "v"), f.metadata());
            assertEquals(new TensorInfo(DType.F32, Shape.of(1, 2), 3, 11), f.info("f"));
            assertArrayEquals(new float[] {1, 2, 255}, read(f, "b"));
            assertArrayEquals(new float[] {1, -2}, read(f, "f"));
            assertArrayEquals(new float[] {1, -3}, read(f, "h"));
            assertArrayEquals(new float[] {0.5f}, read(f, "g"));
            assertArrayEquals(new float[] {-2}, read(f, "i"));
            assertArrayEquals(new float[] {-128, 127}, read(f, "s"));
            assertArrayEquals(new float[0], read(f, "z"));
            assertTrue(f.contains("z"));
            assertFalse(f.contains("__metadata__"));
        }
    }

    private static float[] read(SafetensorsFile f, String name) {
        try (Tensor t = f.tensor(name)) {
            return t.toFloatArray();
        }
    }

    @Test
    void tensorsViewTheMappedFileWithoutCopying() throws IOException {
        Path file = dir.resolve("mapped.safetensors");
        try (Tensor a = Tensor.of(new float[] {1, 2, 3}, 3); Tensor b = Tensor.of(new float[] {4}, 1)) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            tensors.put("a", a);
            tensors.put("b", b);
            SafetensorsWriter.write(file, tensors);
        }
        try (SafetensorsFile f = SafetensorsFile.open(file); Tensor b = f.tensor("b")) {
            Tensor a = f.tensor("a");
            assertTrue(a.segment().isMapped(), "a view of the mapping, not a copy");
            assertTrue(a.segment().isReadOnly());
            assertEquals(f.info("b").begin() - f.info("a").begin(), b.segment().address() - a.segment().address(),
                    "both views lie in one mapping at the header's offsets");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.setFlat(0, 5f));
            assertTrue(e.getMessage().contains("read-only"), e.getMessage());
            a.close();
            assertEquals(4f, b.getFlat(0), "closing one view leaves the others readable");
        }
    }

    /** The CPU backend reads tensors from its worker threads; the mapping must allow that. */
    @Test
    void kernelsOnThePoolReadMappedTensors() throws IOException {
        Path file = dir.resolve("big.safetensors");
        int n = 1 << 18;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = i * 0.25f - 1000f;
        }
        try (Tensor t = Tensor.of(v, n)) {
            SafetensorsWriter.write(file, Map.of("t", t));
        }
        try (SafetensorsFile f = SafetensorsFile.open(file); Tensor t = f.tensor("t"); Tensor h = Ops.cast(t, DType.BF16);
             Tensor back = Ops.cast(h, DType.F32)) {
            float[] out = back.toFloatArray();
            for (int i = 0; i < n; i += 997) {
                assertEquals(v[i], out[i], Math.abs(v[i]) / 128, "element " + i);
            }
        }
    }

    @Test
    void tensorsBecomeUnreadableWhenTheFileCloses() throws IOException {
        Path file = dir.resolve("closed.safetensors");
        try (Tensor t = Tensor.of(new float[] {1, 2}, 2)) {
            SafetensorsWriter.write(file, Map.of("w", t));
        }
        SafetensorsFile f = SafetensorsFile.open(file);
        Tensor w = f.tensor("w");
        assertEquals(2f, w.getFlat(1));
        f.close();
        f.close();
        assertThrows(IllegalStateException.class, () -> w.getFlat(1), "reading unmapped memory must fail, not crash");
        assertThrows(IllegalStateException.class, w::toFloatArray);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> f.tensor("w"));
        assertEquals("SafetensorsFile.tensor(\"w\"): " + file + " is closed", e.getMessage());
        assertEquals(new TensorInfo(DType.F32, Shape.of(2), 0, 8), f.info("w"), "the header outlives the mapping");
        w.close();
    }

    @Test
    void unknownNamesListSomeThatExist() throws IOException {
        Path file = dir.resolve("names.safetensors");
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (int i = 0; i < 7; i++) {
            tensors.put("layer." + i, Tensor.of(new float[] {i}, 1));
        }
        SafetensorsWriter.write(file, tensors);
        tensors.values().forEach(Tensor::close);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.tensor("layer.9"));
            assertEquals("SafetensorsFile.tensor: no tensor named \"layer.9\" in " + file + "; it holds 7 tensors: "
                    + "\"layer.0\", \"layer.1\", \"layer.2\", \"layer.3\", \"layer.4\", ...", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> f.info("x"));
            assertTrue(e.getMessage().startsWith("SafetensorsFile.info: no tensor named \"x\""), e.getMessage());
        }
    }
}
