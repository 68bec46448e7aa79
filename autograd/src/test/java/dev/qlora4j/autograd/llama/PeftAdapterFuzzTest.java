package dev.qlora4j.autograd.llama;

import dev.qlora4j.engine.Allocator;
import dev.qlora4j.engine.safetensors.SafetensorsFormatException;
import dev.qlora4j.json.JsonException;
import dev.qlora4j.testkit.FuzzCampaign;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A PEFT adapter folder whose adapter_config.json or adapter_model.safetensors is mutated is
 * loaded into a fresh model or refused by name, and the model's memory is all given back.
 */
class PeftAdapterFuzzTest {
    private static final LlamaConfig CONFIG = new LlamaConfig(16, 2, 2, 1, 24, 32, 10000.0, 1e-5f, false);
    private static final Set<Class<? extends Throwable>> REFUSALS =
            Set.of(IllegalArgumentException.class, JsonException.class, SafetensorsFormatException.class);

    @TempDir
    Path dir;

    private static FuzzCampaign.NativeMemory cpuMemory() {
        Allocator a = Allocator.cpu();
        return new FuzzCampaign.NativeMemory(() -> a.stats().live(), () -> a.stats().peak(), a::resetPeak);
    }

    private Path savedAdapter() throws Exception {
        Path adapter = dir.resolve("adapter");
        try (LlamaModel m = LlamaModel.random(CONFIG, 1, BaseFormat.NF4)) {
            m.attachLora(Set.of("q_proj", "v_proj", "down_proj"), 4, 8, false, 3);
            PeftAdapter.save(adapter, m, "tiny-llama");
        }
        return adapter;
    }

    private static void loadInto(Path adapter) throws Exception {
        try (LlamaModel m = LlamaModel.random(CONFIG, 2, BaseFormat.F32)) {
            PeftAdapter.load(adapter, m);
        }
    }

    /** Fuzzes one file of a saved adapter folder, loading the folder into a fresh model each case. */
    private void fuzz(String name, String file, long heapPerByte, long nativePerByte) throws Exception {
        Path adapter = savedAdapter();
        Path target = adapter.resolve(file);
        FuzzCampaign.Outcome o = FuzzCampaign.run(name, List.of(Files.readAllBytes(target)), REFUSALS,
                FuzzCampaign.Limits.heap(heapPerByte, 8 << 20).withNative(cpuMemory(), nativePerByte, 1 << 20), bytes -> {
                    Files.write(target, bytes);
                    loadInto(adapter);
                });
        assertTrue(o.refused() > 0 && o.accepted() > 0, o.toString());
    }

    @Test
    void mutatedAdapterConfigsAreLoadedOrRefused() throws Exception {
        fuzz("adapter-config", "adapter_config.json", 4000, 0);
    }

    @Test
    void mutatedAdapterWeightsAreLoadedOrRefused() throws Exception {
        fuzz("adapter-weights", "adapter_model.safetensors", 400, 4);
    }
}
