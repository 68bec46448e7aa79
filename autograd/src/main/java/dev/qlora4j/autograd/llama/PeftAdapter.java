package dev.qlora4j.autograd.llama;

import dev.qlora4j.autograd.LoraLinear;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.safetensors.SafetensorsFile;
import dev.qlora4j.engine.safetensors.SafetensorsWriter;
import dev.qlora4j.json.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * LoRA adapters in PEFT's format, so they move between qlora4j and PEFT: a folder with
 * {@code adapter_model.safetensors} (keys {@code base_model.model.<module>.lora_A.weight} [r, in] and
 * {@code ...lora_B.weight} [out, r], F32) and {@code adapter_config.json} (PEFT's LoraConfig fields,
 * written as Python's {@code json.dumps(indent=2, sort_keys=True)} writes them). Both files are
 * written to temporary files and renamed.
 */
public final class PeftAdapter {
    static final String WEIGHTS = "adapter_model.safetensors";
    static final String CONFIG = "adapter_config.json";
    private static final String PREFIX = "base_model.model.";

    private PeftAdapter() {
    }

    /** The module path of a weight key: {@code model.layers.0.self_attn.q_proj.weight} to {@code model.layers.0.self_attn.q_proj}. */
    static String module(String weightKey) {
        return weightKey.substring(0, weightKey.length() - ".weight".length());
    }

    /**
     * Writes the model's adapters to {@code dir}, created when missing, with {@code baseModelName} as the
     * config's {@code base_model_name_or_path}.
     *
     * @throws IllegalArgumentException when the model has no adapters, or they differ in rank, alpha or
     *                                  rsLoRA (one LoraConfig describes them all)
     */
    public static void save(Path dir, LlamaModel model, String baseModelName) throws IOException {
        Map<String, LoraLinear> adapters = model.adapters();
        if (adapters.isEmpty()) {
            throw new IllegalArgumentException("PEFT save: the model has no LoRA adapters");
        }
        Files.createDirectories(dir);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        TreeSet<String> targets = new TreeSet<>();
        LoraLinear first = adapters.values().iterator().next();
        for (Map.Entry<String, LoraLinear> e : adapters.entrySet()) {
            String m = module(e.getKey());
            tensors.put(PREFIX + m + ".lora_A.weight", e.getValue().loraA().value());
            tensors.put(PREFIX + m + ".lora_B.weight", e.getValue().loraB().value());
            targets.add(m.substring(m.lastIndexOf('.') + 1));
            LoraLinear a = e.getValue();
            if (a.rank() != first.rank() || a.alpha() != first.alpha() || a.rsLora() != first.rsLora()) {
                throw new IllegalArgumentException("PEFT save: adapters differ in rank or alpha; one LoraConfig describes them all");
            }
        }
        SafetensorsWriter.write(dir.resolve(WEIGHTS), tensors, Map.of("format", "pt"));
        Map<String, Object> config = new TreeMap<>();
        config.put("alpha_pattern", Map.of());
        config.put("auto_mapping", null);
        config.put("base_model_name_or_path", baseModelName);
        config.put("bias", "none");
        config.put("fan_in_fan_out", false);
        config.put("inference_mode", true);
        config.put("init_lora_weights", true);
        config.put("layers_pattern", null);
        config.put("layers_to_transform", null);
        config.put("lora_alpha", first.alpha());
        config.put("lora_dropout", 0.0);
        config.put("modules_to_save", null);
        config.put("peft_type", "LORA");
        config.put("r", first.rank());
        config.put("rank_pattern", Map.of());
        config.put("revision", null);
        config.put("target_modules", new ArrayList<>(targets));
        config.put("task_type", "CAUSAL_LM");
        config.put("use_dora", false);
        config.put("use_rslora", first.rsLora());
        dev.qlora4j.engine.AtomicFiles.writeString(dir.resolve(CONFIG), pythonJson(config, 0));
    }

    /**
     * Loads the adapter weights of {@code dir} into {@code model}, attaching adapters as its
     * config says first when the model has none.
     *
     * @throws IllegalArgumentException naming the key when a tensor is missing or has the wrong shape,
     *         or when the config asks for a PEFT feature qlora4j does not implement (DoRA, biases,
     *         modules_to_save, per-layer or per-module patterns, ...), before any weight is read
     */
    public static void load(Path dir, LlamaModel model) throws IOException {
        requireAdapterFolder(dir);
        Object parsed = Json.parse(dir.resolve(CONFIG));
        if (!(parsed instanceof Map<?, ?> config) || !"LORA".equals(config.get("peft_type"))) {
            throw new IllegalArgumentException(dir.resolve(CONFIG) + ": expected a PEFT LoRA config (\"peft_type\": \"LORA\")");
        }
        PeftFeatures.check(dir.resolve(CONFIG), config);
        Path configFile = dir.resolve(CONFIG);
        if (!(config.get("r") instanceof Number rank) || rank.doubleValue() != rank.intValue() || rank.intValue() < 1) {
            throw new IllegalArgumentException(configFile + ": \"r\" is " + Json.describe(config.get("r"))
                    + "; expected the LoRA rank, a whole number of at least 1");
        }
        if (!(config.get("lora_alpha") instanceof Number alphaValue) || !Double.isFinite(alphaValue.doubleValue())) {
            throw new IllegalArgumentException(configFile + ": \"lora_alpha\" is " + Json.describe(config.get("lora_alpha"))
                    + "; expected a finite number");
        }
        int r = rank.intValue();
        float alpha = alphaValue.floatValue();
        boolean rs = Boolean.TRUE.equals(config.get("use_rslora"));
        if (model.adapters().isEmpty()) {
            List<String> targets = new ArrayList<>();
            for (Object t : (List<?>) config.get("target_modules")) {
                targets.add((String) t);
            }
            model.attachLora(new java.util.HashSet<>(targets), r, alpha, rs, 0);
        }
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(WEIGHTS))) {
            for (Map.Entry<String, LoraLinear> e : model.adapters().entrySet()) {
                String m = PREFIX + module(e.getKey());
                copyInto(f, m + ".lora_A.weight", e.getValue().loraA().value());
                copyInto(f, m + ".lora_B.weight", e.getValue().loraB().value());
            }
        }
    }

    /** Says which part of a PEFT adapter folder is missing, before anything is read. */
    private static void requireAdapterFolder(Path dir) {
        String expected = "; expected a PEFT adapter folder holding " + CONFIG + " and " + WEIGHTS;
        if (!Files.exists(dir)) {
            throw new IllegalArgumentException(dir + ": no such folder" + expected);
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + ": a file, not a folder" + expected);
        }
        for (String part : List.of(CONFIG, WEIGHTS)) {
            if (!Files.isRegularFile(dir.resolve(part))) {
                String hint = part.equals(WEIGHTS) && Files.exists(dir.resolve("adapter_model.bin"))
                        ? " (adapter_model.bin is PyTorch's pickle format, which qlora4j does not read: save with "
                        + "safe_serialization=True)" : "";
                throw new IllegalArgumentException(dir + ": no " + part + hint + expected);
            }
        }
    }

    private static void copyInto(SafetensorsFile f, String key, Tensor dst) {
        if (!f.contains(key)) {
            throw new IllegalArgumentException(f.path() + ": missing \"" + key + "\"");
        }
        try (Tensor src = f.tensor(key)) {
            if (!src.dtype().isFloatingPoint()) {
                throw new IllegalArgumentException(f.path() + ": \"" + key + "\" is " + src.describe() + "; expected F32, BF16 or F16");
            }
            dev.qlora4j.engine.NonFinite bad = dev.qlora4j.engine.NonFinite.of(src);
            if (!bad.none()) {
                throw new IllegalArgumentException(f.path() + ": \"" + key + "\" holds " + bad.describe()
                        + "; the adapter is damaged or was saved from a diverged run");
            }
            if (!src.shape().equals(dst.shape())) {
                throw new IllegalArgumentException(f.path() + ": \"" + key + "\" is " + src.describe() + "; expected " + dst.shape());
            }
            try (Tensor c = dev.qlora4j.engine.Ops.cast(src, DType.F32); Tensor on = c.to(dst.device())) {
                dev.qlora4j.engine.Ops.copyInto(on, dst);
            }
        }
    }

    /** Python's json.dumps(obj, indent=2, sort_keys=True) for maps, lists, strings, numbers, booleans and null. */
    static String pythonJson(Object v, int indent) {
        String pad = " ".repeat(indent + 2);
        String end = " ".repeat(indent);
        if (v == null) {
            return "null";
        }
        if (v instanceof Boolean || v instanceof Integer || v instanceof Long) {
            return v.toString();
        }
        if (v instanceof Float || v instanceof Double) {
            return dev.qlora4j.nf4.PythonFloat.repr(((Number) v).doubleValue());
        }
        if (v instanceof String s) {
            return Json.quote(s);
        }
        if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                return "{}";
            }
            StringBuilder b = new StringBuilder("{\n");
            List<String> keys = new ArrayList<>();
            m.keySet().forEach(k -> keys.add((String) k));
            keys.sort(null);
            for (int i = 0; i < keys.size(); i++) {
                b.append(pad).append(Json.quote(keys.get(i))).append(": ").append(pythonJson(m.get(keys.get(i)), indent + 2))
                        .append(i + 1 < keys.size() ? ",\n" : "\n");
            }
            return b.append(end).append('}').toString();
        }
        if (v instanceof List<?> l) {
            if (l.isEmpty()) {
                return "[]";
            }
            StringBuilder b = new StringBuilder("[\n");
            for (int i = 0; i < l.size(); i++) {
                b.append(pad).append(pythonJson(l.get(i), indent + 2)).append(i + 1 < l.size() ? ",\n" : "\n");
            }
            return b.append(end).append(']').toString();
        }
        throw new IllegalArgumentException("pythonJson: cannot write " + v.getClass());
    }
}
