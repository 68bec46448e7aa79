package dev.qlora4j.nf4;

import dev.qlora4j.engine.Allocator;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.safetensors.SafetensorsFile;
import dev.qlora4j.engine.safetensors.SafetensorsFormatException;
import dev.qlora4j.engine.safetensors.SafetensorsWriter;
import dev.qlora4j.testkit.FuzzCampaign;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * bitsandbytes-layout files with a mutated quant_state (or mutated anywhere) are read and
 * dequantized, or refused naming the tensor; a refusal leaves no native memory behind.
 */
class QuantStateFuzzTest {
    private static final Set<Class<? extends Throwable>> REFUSALS =
            Set.of(IllegalArgumentException.class, SafetensorsFormatException.class);

    @TempDir
    Path dir;

    private static FuzzCampaign.NativeMemory cpuMemory() {
        Allocator a = Allocator.cpu();
        return new FuzzCampaign.NativeMemory(() -> a.stats().live(), () -> a.stats().peak(), a::resetPeak);
    }

    private static Tensor random(int rows, int cols, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return Tensor.of(v, rows, cols);
    }

    /** The tensors of an NF4 + double-quant weight, an FP4 one and an INT8 one, as transformers saves them. */
    private static Map<String, Tensor> checkpoint() {
        Map<String, Tensor> all = new LinkedHashMap<>();
        try (Tensor a = random(32, 64, 1); Tensor b = random(16, 64, 2); Tensor c = random(8, 24, 3);
             FourBitWeight nf4 = FourBitWeight.quantize(a, QuantType.NF4, 64, true);
             FourBitWeight fp4 = FourBitWeight.quantize(b, QuantType.FP4, 64, false); Int8Weight int8 = Int8Weight.quantize(c)) {
            all.putAll(BnbCheckpoint.tensors("q.weight", nf4));
            all.putAll(BnbCheckpoint.tensors("k.weight", fp4));
            all.putAll(BnbCheckpoint.tensors("o.weight", int8));
        }
        return all;
    }

    private static void readAll(Path file) throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (String name : BnbCheckpoint.fourBitNames(f)) {
                try (FourBitWeight w = BnbCheckpoint.readFourBit(f, name); Tensor d = w.dequantize(DType.F32)) {
                    d.toFloatArray();
                }
            }
            for (String name : BnbCheckpoint.int8Names(f)) {
                try (Int8Weight w = BnbCheckpoint.readInt8(f, name); Tensor d = w.dequantize(DType.F32)) {
                    d.toFloatArray();
                }
            }
        }
    }

    @Test
    void mutatedCheckpointsAreReadOrRefused() throws Exception {
        Path seed = dir.resolve("seed.safetensors");
        Map<String, Tensor> all = checkpoint();
        try {
            SafetensorsWriter.write(seed, all);
        } finally {
            all.values().forEach(Tensor::close);
        }
        Path input = dir.resolve("case.safetensors");
        FuzzCampaign.Outcome o = FuzzCampaign.run("bnb-file", List.of(Files.readAllBytes(seed)), REFUSALS,
                FuzzCampaign.Limits.heap(64, 1 << 20).withNative(cpuMemory(), 16, 1 << 16), bytes -> {
                    Files.write(input, bytes);
                    readAll(input);
                });
        assertTrue(o.refused() > 0 && o.accepted() > 0, o.toString());
    }

    @Test
    void mutatedQuantStatesAreReadOrRefused() throws Exception {
        Map<String, Tensor> all = checkpoint();
        String key = "q.weight.quant_state.bitsandbytes__nf4";
        Tensor state = all.get(key);
        byte[] json = state.segment().asSlice(state.byteOffset(), state.numel()).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        Path input = dir.resolve("case.safetensors");
        try {
            FuzzCampaign.Outcome o = FuzzCampaign.run("quant-state", List.of(json), REFUSALS,
                    FuzzCampaign.Limits.heap(2000, 4 << 20).withNative(cpuMemory(), 0, 1 << 17), mutated -> {
                        Tensor edited = Tensor.empty(DType.U8, Math.max(1, mutated.length));
                        try (edited) {
                            java.lang.foreign.MemorySegment.copy(mutated, 0, edited.segment(),
                                    java.lang.foreign.ValueLayout.JAVA_BYTE, edited.byteOffset(), mutated.length);
                            Map<String, Tensor> withEdit = new LinkedHashMap<>(all);
                            withEdit.put(key, edited);
                            SafetensorsWriter.write(input, withEdit);
                        }
                        readAll(input);
                    });
            assertTrue(o.refused() > 0 && o.accepted() > 0, o.toString());
        } finally {
            all.values().forEach(Tensor::close);
        }
        assertTrue(new String(json, StandardCharsets.UTF_8).contains("nested_offset"));
    }
}
