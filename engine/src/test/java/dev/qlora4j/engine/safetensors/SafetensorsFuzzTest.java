package dev.qlora4j.engine.safetensors;

import dev.qlora4j.engine.Allocator;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.testkit.FuzzCampaign;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mutated safetensors files (header and data) are opened and every tensor read, or refused by
 * name; no case allocates more than the file's size allows or leaves native memory behind.
 */
class SafetensorsFuzzTest {
    @TempDir
    Path dir;

    private static FuzzCampaign.NativeMemory cpuMemory() {
        Allocator a = Allocator.cpu();
        return new FuzzCampaign.NativeMemory(() -> a.stats().live(), () -> a.stats().peak(), a::resetPeak);
    }

    private byte[] seed(String name, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Path file = dir.resolve(name);
        try {
            SafetensorsWriter.write(file, tensors, metadata);
        } finally {
            tensors.values().forEach(Tensor::close);
        }
        return Files.readAllBytes(file);
    }

    @Test
    void mutatedFilesAreReadOrRefused() throws Exception {
        Map<String, Tensor> mixed = new LinkedHashMap<>();
        mixed.put("model.embed_tokens.weight", Tensor.of(DType.BF16, new float[]{1, -2, 3.5f, 0.25f, 7, 8}, 3, 2));
        mixed.put("model.norm.weight", Tensor.of(new float[]{1, 2, 3, 4}, 4));
        mixed.put("packed", Tensor.of(DType.U8, new float[]{0, 17, 255, 128}, 4, 1));
        mixed.put("half", Tensor.of(DType.F16, new float[]{0.5f, -1, 65504}, 3));
        mixed.put("ids", Tensor.of(new int[]{1, -7, 1 << 30}, 3));
        Map<String, Tensor> one = new LinkedHashMap<>();
        one.put("w", Tensor.of(new float[]{0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, 2, 3));
        List<byte[]> seeds = List.of(seed("mixed.safetensors", mixed, Map.of("format", "pt")),
                seed("one.safetensors", one, Map.of()));
        Path input = dir.resolve("case.safetensors");
        FuzzCampaign.Outcome o = FuzzCampaign.run("safetensors", seeds,
                Set.of(SafetensorsFormatException.class, IllegalArgumentException.class),
                FuzzCampaign.Limits.heap(64, 1 << 20).withNative(cpuMemory(), 8, 1 << 16), bytes -> {
                    Files.write(input, bytes);
                    try (SafetensorsFile f = SafetensorsFile.open(input)) {
                        f.metadata();
                        for (String name : f.names()) {
                            try (Tensor t = f.tensor(name)) {
                                if (t.dtype().isFloatingPoint()) {
                                    t.toFloatArray();
                                } else {
                                    t.segment().asSlice(t.byteOffset(), t.numel() * t.dtype().byteSize()).toArray(
                                            java.lang.foreign.ValueLayout.JAVA_BYTE);
                                }
                            }
                        }
                    }
                });
        assertTrue(o.refused() > 0 && o.accepted() > 0, o.toString());
    }
}
