package dev.qlora4j.nf4;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.safetensors.SafetensorsFile;
import dev.qlora4j.engine.safetensors.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Saving in transformers' bitsandbytes layout and loading back. */
class BnbCheckpointTest {
    @TempDir
    Path dir;

    private static Tensor random(int rows, int cols, DType t, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * 0.05);
        }
        return Tensor.of(t, v, rows, cols);
    }

    @Test
    void quantizeSaveLoadDequantizeEqualsInMemoryDequantize() throws Exception {
        for (QuantType type : QuantType.values()) {
            for (boolean dq : new boolean[]{false, true}) {
                Path file = dir.resolve(type + "-" + dq + ".safetensors");
                try (Tensor w = random(96, 130, DType.BF16, 7); FourBitWeight q = FourBitWeight.quantize(w, type, 64, dq);
                     Tensor expected = q.dequantize(DType.F32)) {
                    Map<String, Tensor> tensors = BnbCheckpoint.tensors("layer.weight", q);
                    try {
                        SafetensorsWriter.write(file, tensors);
                    } finally {
                        tensors.values().forEach(Tensor::close);
                    }
                    try (SafetensorsFile f = SafetensorsFile.open(file)) {
                        assertEquals(List.of("layer.weight"), BnbCheckpoint.fourBitNames(f));
                        assertEquals(DType.U8, f.info("layer.weight").dtype());
                        assertArrayEquals(new int[]{(96 * 130 + 1) / 2, 1}, f.info("layer.weight").shape().dims());
                        assertEquals(dq ? DType.U8 : DType.F32, f.info("layer.weight.absmax").dtype());
                        assertEquals(dq, f.contains("layer.weight.nested_absmax") && f.contains("layer.weight.nested_quant_map"));
                        try (FourBitWeight back = BnbCheckpoint.readFourBit(f, "layer.weight");
                             Tensor got = back.dequantize(DType.F32)) {
                            assertEquals(DType.BF16, back.originalDType());
                            assertArrayEquals(expected.toFloatArray(), got.toFloatArray());
                        }
                    }
                }
            }
        }
    }

    @Test
    void theQuantStateIsPythonJsonWithThePythonReprOfTheOffset() {
        try (Tensor w = random(128, 96, DType.BF16, 8); FourBitWeight q = FourBitWeight.quantize(w, QuantType.NF4, 64, true)) {
            String json = BnbCheckpoint.stateJson(q);
            String prefix = "{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"bfloat16\", \"shape\": [128, 96], "
                    + "\"nested_blocksize\": 256, \"nested_dtype\": \"float32\", \"nested_offset\": ";
            assertEquals(prefix, json.substring(0, prefix.length()));
            String offset = json.substring(prefix.length(), json.length() - 1);
            assertEquals(q.offset(), (float) Double.parseDouble(offset), "the repr reads back to the same f32");
            Map<String, Tensor> t = BnbCheckpoint.tensors("w", q);
            try {
                Tensor state = t.get("w.quant_state.bitsandbytes__nf4");
                byte[] bytes = state.segment().asSlice(state.byteOffset(), state.numel())
                        .toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                assertEquals(json, new String(bytes, StandardCharsets.UTF_8));
            } finally {
                t.values().forEach(Tensor::close);
            }
        }
    }

    @Test
    void pythonReprOfFloats() {
        // Expected strings printed by CPython 3.11's repr(float(x)).
        assertEquals("0.052064258605241776", PythonFloat.repr(0.052064258605241776));
        assertEquals("1e-05", PythonFloat.repr(1e-05));
        assertEquals("1.5e-05", PythonFloat.repr(1.5e-05));
        assertEquals("123456.0", PythonFloat.repr(123456.0));
        assertEquals("1e+16", PythonFloat.repr(1e16));
        assertEquals("0.0001", PythonFloat.repr(0.0001));
        assertEquals("0.00012345", PythonFloat.repr(0.00012345));
        assertEquals("3.0", PythonFloat.repr(3.0));
        assertEquals("0.10000000149011612", PythonFloat.repr(0.1f));
        assertEquals("1.0000000116860974e-07", PythonFloat.repr(1e-7f));
        assertEquals("3.3999999521443642e+38", PythonFloat.repr(3.4e38f));
        assertEquals("-0.0025", PythonFloat.repr(-2.5e-3));
        assertEquals("65504.0", PythonFloat.repr(65504f));
    }

    @Test
    void int8RoundTripAndMissingPiecesAreNamed() throws Exception {
        Path file = dir.resolve("int8.safetensors");
        try (Tensor w = random(17, 33, DType.F32, 9); Int8Weight q = Int8Weight.quantize(w); Tensor expected = q.dequantize(DType.F32)) {
            Map<String, Tensor> tensors = BnbCheckpoint.tensors("m.weight", q);
            try {
                SafetensorsWriter.write(file, tensors);
            } finally {
                tensors.values().forEach(Tensor::close);
            }
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                assertEquals(List.of("m.weight"), BnbCheckpoint.int8Names(f));
                assertEquals(List.of("m.weight", "m.SCB", "m.weight_format"), BnbCheckpoint.ownedKeys(f, "m.weight"));
                try (Int8Weight back = BnbCheckpoint.readInt8(f, "m.weight"); Tensor got = back.dequantize(DType.F32)) {
                    assertArrayEquals(expected.toFloatArray(), got.toFloatArray());
                }
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BnbCheckpoint.readFourBit(f, "m.weight"));
                assertEquals(true, e.getMessage().contains("quant_state"), e.getMessage());
            }
        }
    }

    /** Writes a double-quantized NF4 weight whose quant_state JSON is passed through {@code edit}. */
    private Path withQuantState(String file, java.util.function.UnaryOperator<String> edit) throws Exception {
        Path out = dir.resolve(file);
        try (Tensor w = random(64, 128, DType.F32, 3); FourBitWeight q = FourBitWeight.quantize(w, QuantType.NF4, 64, true)) {
            Map<String, Tensor> tensors = new java.util.LinkedHashMap<>(BnbCheckpoint.tensors("m.weight", q));
            String key = "m.weight.quant_state.bitsandbytes__nf4";
            byte[] json = edit.apply(BnbCheckpoint.stateJson(q)).getBytes(StandardCharsets.UTF_8);
            Tensor state = Tensor.empty(DType.U8, json.length);
            java.lang.foreign.MemorySegment.copy(json, 0, state.segment(), java.lang.foreign.ValueLayout.JAVA_BYTE,
                    state.byteOffset(), json.length);
            tensors.put(key, state).close();
            try {
                SafetensorsWriter.write(out, tensors);
            } finally {
                tensors.values().forEach(Tensor::close);
            }
        }
        return out;
    }

    @Test
    void aBrokenQuantStateIsNamedForWhatIsWrong() throws Exception {
        Path noOffset = withQuantState("no-offset.safetensors", s -> s.replaceAll(", \"nested_offset\": [^,}]*", ""));
        try (SafetensorsFile f = SafetensorsFile.open(noOffset)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BnbCheckpoint.readFourBit(f, "m.weight"));
            assertEquals(true, e.getMessage().contains("m.weight.quant_state.bitsandbytes__nf4: quant_state needs a number \"nested_offset\""),
                    e.getMessage());
        }
        Path notJson = withQuantState("not-json.safetensors", s -> s.substring(0, s.length() - 1));
        try (SafetensorsFile f = SafetensorsFile.open(notJson)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BnbCheckpoint.readFourBit(f, "m.weight"));
            assertEquals(true, e.getMessage().startsWith(notJson + ": m.weight.quant_state.bitsandbytes__nf4: not valid JSON: at byte "),
                    e.getMessage());
        }
        Path stringShape = withQuantState("string-shape.safetensors", s -> s.replace("\"shape\": [64, 128]", "\"shape\": [\"64\", 128]"));
        try (SafetensorsFile f = SafetensorsFile.open(stringShape)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BnbCheckpoint.readFourBit(f, "m.weight"));
            assertEquals(true, e.getMessage().contains("holds the string \"64\"; expected whole numbers"), e.getMessage());
        }
    }
}
