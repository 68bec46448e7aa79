package dev.qlora4j.autograd.llama;

import dev.qlora4j.autograd.AdamW;
import dev.qlora4j.autograd.LoraLinear;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.safetensors.SafetensorsFile;
import dev.qlora4j.engine.safetensors.SafetensorsWriter;
import dev.qlora4j.json.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A resumable training state in a folder: {@code step-N/} holds the adapter (PEFT format), the AdamW
 * moments ({@code optimizer.safetensors}) and, in its metadata, the step, AdamW's step count and the
 * data RNG state; {@code latest} names the newest complete one. Each checkpoint is written in full
 * before {@code latest} is switched to it by an atomic rename, so an interrupted write leaves the
 * previous checkpoint in force.
 */
public final class TrainingCheckpoint {
    private TrainingCheckpoint() {
    }

    /** What a resumed run continues from. */
    public record State(long step, long rngState) {
    }

    /**
     * Writes {@code step-<step>/} in {@code dir}: the model's adapter, the optimizer's moments of each
     * adapter matrix that has them, and the step, AdamW's step count and {@code rngState}; then points
     * {@code latest} at it.
     *
     * @throws IllegalArgumentException when the model has no LoRA adapters
     */
    public static void save(Path dir, LlamaModel model, AdamW optimizer, long step, long rngState) throws IOException {
        Path target = dir.resolve("step-" + step);
        PeftAdapter.save(target, model, "qlora4j-training");
        Map<String, Tensor> moments = new LinkedHashMap<>();
        for (Map.Entry<String, LoraLinear> e : model.adapters().entrySet()) {
            String m = PeftAdapter.module(e.getKey());
            put(moments, m + ".lora_A", optimizer.state(e.getValue().loraA()));
            put(moments, m + ".lora_B", optimizer.state(e.getValue().loraB()));
        }
        SafetensorsWriter.write(target.resolve("optimizer.safetensors"), moments, Map.of("step", Long.toString(step),
                "adam_steps", Long.toString(optimizer.steps()), "rng_state", Long.toString(rngState)));
        dev.qlora4j.engine.AtomicFiles.writeString(dir.resolve("latest"), "step-" + step + "\n");
    }

    private static void put(Map<String, Tensor> out, String name, Tensor[] mv) {
        if (mv != null) {
            out.put(name + ".exp_avg", mv[0]);
            out.put(name + ".exp_avg_sq", mv[1]);
        }
    }

    /**
     * Restores the newest checkpoint in {@code dir} into a model with the same adapters and an
     * optimizer; returns the step and RNG state to continue from.
     *
     * @throws IllegalArgumentException when {@code dir} holds no checkpoint
     */
    public static State resume(Path dir, LlamaModel model, AdamW optimizer) throws IOException {
        Path latest = dir.resolve("latest");
        if (!Files.isRegularFile(latest)) {
            throw new IllegalArgumentException(dir + ": no training checkpoint (no \"latest\" file)");
        }
        String named = new String(Files.readAllBytes(latest), java.nio.charset.StandardCharsets.ISO_8859_1).strip();
        if (!named.matches("step-[0-9]{1,18}")) {
            throw new IllegalArgumentException(latest + " holds " + Json.quote(named.length() > 40 ? named.substring(0, 40) + "…" : named)
                    + "; expected the name of a checkpoint folder, step-N (written by finetune --save-every)");
        }
        Path source = dir.resolve(named);
        if (!Files.isDirectory(source)) {
            throw new IllegalArgumentException(latest + " names " + named + ", which is not a folder in " + dir
                    + "; the checkpoint was removed");
        }
        PeftAdapter.load(source, model);
        try (SafetensorsFile f = SafetensorsFile.open(source.resolve("optimizer.safetensors"))) {
            long adamSteps = metadataNumber(f, "adam_steps");
            for (Map.Entry<String, LoraLinear> e : model.adapters().entrySet()) {
                String m = PeftAdapter.module(e.getKey());
                restore(f, m + ".lora_A", e.getValue().loraA(), optimizer, adamSteps);
                restore(f, m + ".lora_B", e.getValue().loraB(), optimizer, adamSteps);
            }
            return new State(metadataNumber(f, "step"), metadataNumber(f, "rng_state"));
        }
    }

    private static long metadataNumber(SafetensorsFile f, String key) {
        String value = f.metadata().get(key);
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(f.path() + ": metadata \"" + key + "\" is "
                    + (value == null ? "missing" : Json.quote(value)) + "; expected a whole number (as finetune writes it)", e);
        }
    }

    private static void restore(SafetensorsFile f, String name, dev.qlora4j.autograd.Var p, AdamW optimizer, long steps) {
        if (!f.contains(name + ".exp_avg")) {
            return;
        }
        try (Tensor m = f.tensor(name + ".exp_avg"); Tensor v = f.tensor(name + ".exp_avg_sq")) {
            optimizer.restore(p, m, v, steps);
        }
    }
}
