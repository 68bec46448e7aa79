package dev.qlora4j.cli;

import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.safetensors.SafetensorsFile;
import dev.qlora4j.engine.safetensors.SafetensorsWriter;
import dev.qlora4j.nf4.BnbCheckpoint;
import dev.qlora4j.nf4.FourBitWeight;
import dev.qlora4j.nf4.QuantType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The quantize and dequantize commands end to end on small files, including bad input. */
class QuantizeCommandTest {
    @TempDir
    Path dir;
    private Path in;

    @BeforeEach
    void writeInput() throws Exception {
        in = dir.resolve("in.safetensors");
        SplittableRandom r = new SplittableRandom(3);
        float[] w = new float[64 * 96];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextGaussian() * 0.02);
        }
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("model.layers.0.mlp.up_proj.weight", Tensor.of(DType.BF16, w, 64, 96));
        t.put("model.norm.weight", Tensor.of(new float[]{1, 2, 3}, 3));
        t.put("ids", Tensor.of(DType.I32, new float[]{1, 2}, 2));
        try {
            SafetensorsWriter.write(in, t);
        } finally {
            t.values().forEach(Tensor::close);
        }
    }

    @Test
    void nanOrInfinityInAWeightIsRefusedNamingItUnlessAllowed() throws Exception {
        Path bad = dir.resolve("bad.safetensors");
        float[] w = new float[64 * 96];
        w[130] = Float.NaN;
        w[131] = Float.NEGATIVE_INFINITY;
        try (Tensor t = Tensor.of(w, 64, 96)) {
            SafetensorsWriter.write(bad, Map.of("model.layers.0.mlp.up_proj.weight", t));
        }
        Path out = dir.resolve("bad-q.safetensors");
        CommandRun r = CommandRun.of("quantize", bad.toString(), out.toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains("\"model.layers.0.mlp.up_proj.weight\" holds 2 NaN or infinite values, the first at index 130"),
                r.err());
        assertTrue(!Files.exists(out), "nothing written");
        CommandRun dq = CommandRun.of("quantize", bad.toString(), out.toString(), "--allow-nonfinite");
        assertEquals(1, dq.status());
        assertTrue(dq.err().contains("cannot be double-quantized") && dq.err().contains("--no-double-quant"), dq.err());
        assertEquals(0, CommandRun.of("quantize", bad.toString(), out.toString(), "--allow-nonfinite", "--no-double-quant").status());
    }

    @Test
    void zeroSizeTensorsAreCopiedUnchangedAndRefusedByTheQuantizerByName() throws Exception {
        Path empty = dir.resolve("empty.safetensors");
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("rows.weight", Tensor.zeros(DType.F32, 0, 128));
        tensors.put("cols.weight", Tensor.zeros(DType.BF16, 64, 0));
        tensors.put("w.weight", Tensor.of(new float[64 * 64], 64, 64));
        try {
            SafetensorsWriter.write(empty, tensors);
        } finally {
            tensors.values().forEach(Tensor::close);
        }
        Path out = dir.resolve("empty-q.safetensors");
        CommandRun r = CommandRun.of("quantize", empty.toString(), out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("quantized 1 tensor(s)"), r.out());
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertEquals(DType.F32, f.info("rows.weight").dtype());
            assertArrayEquals(new int[]{0, 128}, f.info("rows.weight").shape().dims());
            assertEquals(DType.BF16, f.info("cols.weight").dtype());
            assertArrayEquals(new int[]{64, 0}, f.info("cols.weight").shape().dims());
        }
        try (Tensor t = Tensor.zeros(DType.F32, 0, 128)) {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> FourBitWeight.quantize(t, QuantType.NF4, 64, true));
            assertTrue(e.getMessage().startsWith("quantize: ") && e.getMessage().contains("has no elements"), e.getMessage());
        }
    }

    @Test
    void dequantizeRefusesQuantizedPartsItCannotDecode() throws Exception {
        Path q = dir.resolve("q.safetensors");
        assertEquals(0, CommandRun.of("quantize", in.toString(), q.toString()).status());
        String w = "model.layers.0.mlp.up_proj.weight";
        // No quant_state: the packed bytes would be copied as if they were values.
        Path noState = rewrite(q, "no-state", m -> m.keySet().removeIf(k -> k.contains("quant_state")));
        CommandRun r1 = CommandRun.of("dequantize", noState.toString(), dir.resolve("o1.safetensors").toString());
        assertEquals(1, r1.status());
        assertTrue(r1.err().contains("\"" + w + "\" has") && r1.err().contains("quant_state"), r1.err());
        // A quant_map that is not the NF4 code book.
        Path badMap = rewrite(q, "bad-map", m -> {
            float[] v = m.get(w + ".quant_map").toFloatArray();
            v[3] += 0.25f;
            m.put(w + ".quant_map", Tensor.of(v, 16));
        });
        CommandRun r2 = CommandRun.of("dequantize", badMap.toString(), dir.resolve("o2.safetensors").toString());
        assertEquals(1, r2.status());
        assertTrue(r2.err().contains(w + ".quant_map\" entry 3"), r2.err());
        // An INT8 weight without its SCB.
        Path q8 = dir.resolve("q8.safetensors");
        assertEquals(0, CommandRun.of("quantize", in.toString(), q8.toString(), "--type", "int8").status());
        Path noScb = rewrite(q8, "no-scb", m -> m.keySet().removeIf(k -> k.endsWith("SCB")));
        CommandRun r3 = CommandRun.of("dequantize", noScb.toString(), dir.resolve("o3.safetensors").toString());
        assertEquals(1, r3.status());
        assertTrue(r3.err().contains("I8 weight without its") && r3.err().contains("SCB"), r3.err());
    }

    /** A copy of {@code file}'s tensors, changed by {@code edit}, written as {@code name}.safetensors. */
    private Path rewrite(Path file, String name, java.util.function.Consumer<Map<String, Tensor>> edit) throws Exception {
        Path out = dir.resolve(name + ".safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, Tensor> all = new LinkedHashMap<>();
            for (String n : f.names()) {
                all.put(n, f.tensor(n));
            }
            edit.accept(all);
            SafetensorsWriter.write(out, all);
        }
        return out;
    }

    @Test
    void anOutputThatIsTheInputIsRefusedUnlessInPlace() throws Exception {
        byte[] original = Files.readAllBytes(in);
        Path link = Files.createSymbolicLink(dir.resolve("link.safetensors"), in);
        for (String command : new String[]{"quantize", "dequantize"}) {
            for (Path out : new Path[]{in, link, dir.resolve("./in.safetensors")}) {
                CommandRun r = CommandRun.of(command, in.toString(), out.toString());
                assertEquals(2, r.status(), command + " " + out);
                assertTrue(r.err().contains("is the input file") && r.err().contains("--in-place"), r.err());
                assertArrayEquals(original, Files.readAllBytes(in), "the original is untouched");
            }
        }
        CommandRun inPlace = CommandRun.of("quantize", in.toString(), in.toString(), "--in-place");
        assertEquals(0, inPlace.status(), inPlace.err());
        try (SafetensorsFile f = SafetensorsFile.open(in)) {
            assertTrue(f.names().contains("model.layers.0.mlp.up_proj.weight.absmax"), "replaced on purpose");
        }
    }

    @Test
    void quantizeWritesTheBitsandbytesLayoutAndDequantizeRestoresTheValues() throws Exception {
        Path q = dir.resolve("q.safetensors");
        CommandRun r = CommandRun.of("quantize", in.toString(), q.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("quantized 1 tensor(s) to nf4 blocksize 64 + double quant"), r.out());
        try (SafetensorsFile f = SafetensorsFile.open(q)) {
            assertEquals(List.of("model.layers.0.mlp.up_proj.weight",
                    "model.layers.0.mlp.up_proj.weight.absmax",
                    "model.layers.0.mlp.up_proj.weight.quant_map",
                    "model.layers.0.mlp.up_proj.weight.nested_absmax",
                    "model.layers.0.mlp.up_proj.weight.nested_quant_map",
                    "model.layers.0.mlp.up_proj.weight.quant_state.bitsandbytes__nf4",
                    "model.norm.weight", "ids"), f.names());
            assertEquals(Map.of("format", "pt"), f.metadata());
        }
        Path back = dir.resolve("back.safetensors");
        CommandRun d = CommandRun.of("dequantize", q.toString(), back.toString(), "--dtype", "bf16");
        assertEquals(0, d.status(), d.err());
        try (SafetensorsFile original = SafetensorsFile.open(in); SafetensorsFile f = SafetensorsFile.open(back);
             Tensor w = original.tensor("model.layers.0.mlp.up_proj.weight");
             FourBitWeight expected = FourBitWeight.quantize(w, QuantType.NF4, 64, true);
             Tensor e = expected.dequantize(DType.BF16); Tensor got = f.tensor("model.layers.0.mlp.up_proj.weight");
             Tensor norm = f.tensor("model.norm.weight")) {
            assertEquals(List.of("model.layers.0.mlp.up_proj.weight", "model.norm.weight", "ids"), f.names());
            assertArrayEquals(e.toFloatArray(), got.toFloatArray());
            assertArrayEquals(new float[]{1, 2, 3}, norm.toFloatArray());
        }
    }

    @Test
    void int8AndFp4WithOptions() throws Exception {
        Path q8 = dir.resolve("q8.safetensors");
        assertEquals(0, CommandRun.of("quantize", in.toString(), q8.toString(), "--type", "int8").status());
        try (SafetensorsFile f = SafetensorsFile.open(q8)) {
            assertEquals(List.of("model.layers.0.mlp.up_proj.weight"), BnbCheckpoint.int8Names(f));
        }
        Path q4 = dir.resolve("q4.safetensors");
        CommandRun r = CommandRun.of("quantize", in.toString(), q4.toString(), "--type", "fp4", "--blocksize", "128", "--no-double-quant",
                "--include", "up_proj");
        assertEquals(0, r.status(), r.err());
        try (SafetensorsFile f = SafetensorsFile.open(q4); FourBitWeight w = BnbCheckpoint.readFourBit(f, "model.layers.0.mlp.up_proj.weight")) {
            assertEquals(QuantType.FP4, w.type());
            assertEquals(128, w.blocksize());
            assertFalse(w.doubleQuant());
        }
    }

    @Test
    void badInputGivesAMessageANonZeroExitAndNoOutputFile() throws Exception {
        Path out = dir.resolve("out.safetensors");
        Path notSafetensors = dir.resolve("notes.txt");
        Files.writeString(notSafetensors, "hello, this is not a safetensors file at all");
        String[][] cases = {
                {"quantize", dir.resolve("missing.safetensors").toString(), out.toString()},
                {"quantize", notSafetensors.toString(), out.toString()},
                {"quantize", in.toString(), out.toString(), "--blocksize", "48"},
                {"quantize", in.toString(), out.toString(), "--include", "ids"},
                {"quantize", in.toString(), out.toString(), "--type", "nf5"},
                {"quantize", in.toString()},
                {"dequantize", in.toString(), out.toString(), "--dtype", "f64"},
        };
        String[] expected = {"no such file", "header length", "block size 48", "I32", "nf5", "expected IN and OUT", "f64"};
        for (int i = 0; i < cases.length; i++) {
            CommandRun r = CommandRun.of(cases[i]);
            assertTrue(r.status() != 0, String.join(" ", cases[i]));
            assertTrue(r.err().contains(expected[i]), r.err());
            assertFalse(Files.exists(out), "no output after: " + String.join(" ", cases[i]));
        }
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.toString().endsWith(".tmp")), "no temporary file left behind");
        }
    }
}
