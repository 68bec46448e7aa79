package dev.qlora4j.tests;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.safetensors.SafetensorsFile;
import dev.qlora4j.nf4.FourBitWeight;
import dev.qlora4j.nf4.Int8Weight;
import dev.qlora4j.nf4.QuantType;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * qlora4j's quantizers against the vectors of tests/reference/bnb_reference.py, an independent
 * numpy implementation written from the format document: packed bytes, absmax, the double-quant
 * state and dequantized values must match bit for bit (NaN matching NaN).
 */
class BitsandbytesVectorsTest {

    private static List<Path> files() throws IOException, URISyntaxException {
        Path dir = Path.of(Objects.requireNonNull(BitsandbytesVectorsTest.class.getResource("/bnb"), "test vectors").toURI());
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
        }
    }

    @TestFactory
    Stream<DynamicTest> everyVectorFile() throws Exception {
        List<Path> files = files();
        assertTrue(files.size() >= 50, "expected the committed vectors, found " + files.size());
        return files.stream().map(p -> DynamicTest.dynamicTest(p.getFileName().toString(), () -> check(p)));
    }

    private static void check(Path file) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            String type = f.metadata().get("quant_type");
            switch (type) {
                case "nf4", "fp4" -> checkFourBit(f, QuantType.fromJsonName(type));
                case "int8" -> checkInt8(f);
                case "dynamic8" -> checkDynamicMap(f);
                default -> fail(file + ": unknown quant_type " + type);
            }
        }
    }

    private static void checkFourBit(SafetensorsFile f, QuantType type) {
        int blocksize = Integer.parseInt(f.metadata().get("blocksize"));
        boolean dq = Boolean.parseBoolean(f.metadata().get("double_quant"));
        // The CUDA kernel's NF4 thresholds are its literals rounded once to f32 (packed_nvcc where it differs).
        String packedKey = f.contains("packed_nvcc") ? "packed_nvcc" : "packed";
        try (Tensor input = f.tensor("input")) {
            try (FourBitWeight q = FourBitWeight.quantize(input, type, blocksize, false)) {
                assertBytes(f, packedKey, q.packed());
                assertFloats(f, "absmax", q.absmax());
                if (!f.contains("packed_nvcc")) {
                    try (Tensor d = q.dequantize(DType.F32)) {
                        assertFloats(f, "dequant", roundTo(input.dtype(), d.toFloatArray()));
                    }
                }
            }
            if (dq) {
                try (FourBitWeight q = FourBitWeight.quantize(input, type, blocksize, true)) {
                    assertBytes(f, "qabsmax", q.absmaxTensor());
                    assertFloats(f, "nested_absmax", q.nestedAbsmax().toFloatArray());
                    assertFloats(f, "offset", new float[]{q.offset()});
                    assertFloats(f, "absmax_dq", q.absmax());
                    try (Tensor d = q.dequantize(DType.F32)) {
                        assertFloats(f, "dequant_dq", roundTo(input.dtype(), d.toFloatArray()));
                    }
                }
            }
        }
    }

    /** bitsandbytes dequantizes to the input's dtype: round the f32 products the same way. */
    private static float[] roundTo(DType t, float[] v) {
        if (t == DType.F32) {
            return v;
        }
        try (Tensor f = Tensor.of(v, v.length); Tensor r = dev.qlora4j.engine.Ops.cast(f, t)) {
            return r.toFloatArray();
        }
    }

    private static void checkInt8(SafetensorsFile f) {
        try (Tensor input = f.tensor("input"); Int8Weight q = Int8Weight.quantize(input); Tensor d = q.dequantize(DType.F32)) {
            assertBytes(f, "cb", q.cb());
            assertFloats(f, "scb", q.scb().toFloatArray());
            assertFloats(f, "dequant", d.toFloatArray());
        }
    }

    private static void checkDynamicMap(SafetensorsFile f) {
        float[] map = dev.qlora4j.nf4.DynamicMap.values();
        assertFloats(f, "dynamic_map", map);
        for (String[] pair : new String[][]{{"input", "codes"}, {"input_neighbors", "codes_neighbors"}}) {
            try (Tensor in = f.tensor(pair[0]); Tensor codes = f.tensor(pair[1])) {
                for (int i = 0; i < in.numel(); i++) {
                    assertEquals((int) codes.getFlat(i), dev.qlora4j.nf4.DynamicMap.encode(in.getFlat(i)),
                            f.path().getFileName() + " " + pair[0] + "[" + i + "] = " + in.getFlat(i));
                }
            }
        }
    }

    private static void assertBytes(SafetensorsFile f, String key, Tensor got) {
        try (Tensor expected = f.tensor(key)) {
            assertEquals(expected.numel(), got.numel(), f.path().getFileName() + " " + key + " size");
            byte[] e = expected.segment().asSlice(expected.byteOffset(), expected.numel() * expected.dtype().byteSize())
                    .toArray(ValueLayout.JAVA_BYTE);
            byte[] g = got.segment().asSlice(got.byteOffset(), got.numel() * got.dtype().byteSize()).toArray(ValueLayout.JAVA_BYTE);
            for (int i = 0; i < e.length; i++) {
                if (e[i] != g[i]) {
                    fail(f.path().getFileName() + " " + key + "[" + i + "] = 0x" + Integer.toHexString(g[i] & 0xFF)
                            + ", expected 0x" + Integer.toHexString(e[i] & 0xFF));
                }
            }
        }
    }

    private static void assertFloats(SafetensorsFile f, String key, float[] got) {
        try (Tensor expected = f.tensor(key)) {
            assertEquals(expected.numel(), got.length, f.path().getFileName() + " " + key + " size");
            for (int i = 0; i < got.length; i++) {
                float e = expected.getFlat(i);
                boolean same = Float.isNaN(e) ? Float.isNaN(got[i]) : Float.floatToRawIntBits(e) == Float.floatToRawIntBits(got[i]);
                if (!same) {
                    fail(f.path().getFileName() + " " + key + "[" + i + "] = " + got[i] + " (0x"
                            + Integer.toHexString(Float.floatToRawIntBits(got[i])) + "), expected " + e + " (0x"
                            + Integer.toHexString(Float.floatToRawIntBits(e)) + ")");
                }
            }
        }
    }
}
