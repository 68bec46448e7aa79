package dev.qlora4j.autograd.llama;

import dev.qlora4j.autograd.LoraLinear;
import dev.qlora4j.engine.DType;
import dev.qlora4j.engine.Ops;
import dev.qlora4j.engine.ReduceOp;
import dev.qlora4j.engine.Tensor;
import dev.qlora4j.engine.UnaryOp;
import dev.qlora4j.engine.safetensors.SafetensorsWriter;
import dev.qlora4j.nf4.BnbCheckpoint;
import dev.qlora4j.nf4.FourBitWeight;
import dev.qlora4j.nf4.QuantType;
import dev.qlora4j.nf4.QuantizedWeight;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A model with its adapters merged in, written as one Hugging Face folder for serving elsewhere:
 * every linear weight becomes {@code W + s·B·A}, computed in F32 from the base as the model holds
 * it (a quantized base is dequantized first, so the result computes what base + adapter computed),
 * then written in the chosen dtype — or quantized again to NF4 with double quantization in
 * bitsandbytes' layout, which transformers loads as a 4-bit model. Safetensors are sharded at
 * {@value #SHARD_BYTES} bytes with {@code model.safetensors.index.json}, as {@code save_pretrained}
 * does; config.json gets the matching {@code torch_dtype} (and {@code quantization_config}); the
 * tokenizer files of the base folder are copied.
 */
public final class MergedCheckpoint {
    /** transformers' default {@code max_shard_size}, "5GB". */
    public static final long SHARD_BYTES = 5_000_000_000L;
    private static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "tokenizer.model", "generation_config.json");

    /**
     * What writing cost in precision: the largest change of a merged linear weight, relative to the
     * largest merged value, from rounding to the written dtype or from quantizing again.
     *
     * @param files         the safetensors files written
     * @param weights       the tensors (or, quantized, weights) written
     * @param relativeError max |written - merged| / max |merged| over the linear weights
     */
    public record Report(List<String> files, int weights, double relativeError) {
    }

    private MergedCheckpoint() {
    }

    /**
     * Writes {@code model} merged into {@code out}, a folder that must not exist or be empty.
     *
     * @param dtype       F32, BF16 or F16: the dtype of every weight written densely
     * @param quantizeNf4 write the decoder's linear weights as NF4 with double quantization (block 64)
     * @param tokenizerDir where the tokenizer files to copy are (the base model's folder), or null
     */
    public static Report write(LlamaModel model, Path out, DType dtype, boolean quantizeNf4, Path tokenizerDir)
            throws IOException {
        return write(model, out, dtype, quantizeNf4, tokenizerDir, SHARD_BYTES);
    }

    static Report write(LlamaModel model, Path out, DType dtype, boolean quantizeNf4, Path tokenizerDir, long shardBytes)
            throws IOException {
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
            throw new IllegalArgumentException("merge: dtype " + dtype + ", expected F32, BF16 or F16");
        }
        if (Files.exists(out)) {
            boolean empty;
            try (java.util.stream.Stream<Path> listing = Files.isDirectory(out) ? Files.list(out) : null) {
                empty = listing != null && listing.findAny().isEmpty();
            }
            if (!empty) {
                throw new IllegalArgumentException("merge: " + out + " exists and is not an empty folder; choose a new one");
            }
        }
        Files.createDirectories(out);
        List<String> names = new ArrayList<>(model.denseWeights().keySet());
        List<String> linear = new ArrayList<>();
        for (int l = 0; l < model.config().layers(); l++) {
            for (String module : LlamaModel.LINEAR_MODULES) {
                linear.add(LlamaModel.linearKey(l, module));
            }
        }
        names.removeAll(linear);
        // Plan the shards from sizes alone, so that each shard's tensors are made only while it is written.
        List<List<String>> shards = new ArrayList<>();
        long shardSize = 0;
        for (String name : concat(names, linear)) {
            long bytes = bytes(model, name, dtype, quantizeNf4);
            if (shards.isEmpty() || shardSize > 0 && shardSize + bytes > shardBytes) {
                shards.add(new ArrayList<>());
                shardSize = 0;
            }
            shards.getLast().add(name);
            shardSize += bytes;
        }
        double[] worst = {0, 0};
        List<String> files = new ArrayList<>();
        Map<String, String> weightMap = new TreeMap<>();
        long total = 0;
        int count = 0;
        for (int i = 0; i < shards.size(); i++) {
            String file = shards.size() == 1 ? "model.safetensors"
                    : String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            try {
                for (String name : shards.get(i)) {
                    tensors.putAll(tensorsOf(model, name, dtype, quantizeNf4, linear.contains(name), worst));
                    count++;
                }
                SafetensorsWriter.write(out.resolve(file), tensors, Map.of("format", "pt"));
                for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                    weightMap.put(e.getKey(), file);
                    total += e.getValue().numel() * e.getValue().dtype().byteSize();
                }
            } finally {
                tensors.values().forEach(Tensor::close);
            }
            files.add(file);
        }
        if (shards.size() > 1) {
            dev.qlora4j.engine.AtomicFiles.writeString(out.resolve("model.safetensors.index.json"), indexJson(total, weightMap));
        }
        dev.qlora4j.engine.AtomicFiles.writeString(out.resolve("config.json"), config(model.config(), dtype, quantizeNf4));
        if (tokenizerDir != null) {
            for (String f : TOKENIZER_FILES) {
                if (Files.isRegularFile(tokenizerDir.resolve(f))) {
                    Files.copy(tokenizerDir.resolve(f), out.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        return new Report(files, count, worst[1] == 0 ? 0 : worst[0] / worst[1]);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** Bytes a tensor takes once written. */
    private static long bytes(LlamaModel model, String name, DType dtype, boolean quantizeNf4) {
        long n = model.weightShape(name).numel();
        if (quantizeNf4 && model.isLinear(name)) {
            return FourBitWeight.footprintBytes(n, 64, true);
        }
        return n * dtype.byteSize();
    }

    /** The tensors written for one weight; a linear weight merged with its adapter, if any. */
    private static Map<String, Tensor> tensorsOf(LlamaModel model, String name, DType dtype, boolean quantizeNf4,
                                                 boolean linear, double[] worst) {
        if (!linear) {
            return Map.of(name, Ops.cast(model.denseWeights().get(name), dtype));
        }
        try (Tensor merged = mergedF32(model, name)) {
            if (quantizeNf4) {
                try (FourBitWeight q = FourBitWeight.quantize(merged, QuantType.NF4, 64, true);
                     Tensor back = q.dequantize(DType.F32)) {
                    track(merged, back, worst);
                    return BnbCheckpoint.tensors(name, q);
                }
            }
            Tensor written = Ops.cast(merged, dtype);
            try (Tensor back = Ops.cast(written, DType.F32)) {
                track(merged, back, worst);
            }
            return Map.of(name, written);
        }
    }

    /** W + s·B·A in F32 (W dequantized when quantized), or W alone without an adapter. */
    private static Tensor mergedF32(LlamaModel model, String name) {
        LoraLinear a = model.adapters().get(name);
        if (a != null) {
            return a.merged(DType.F32);
        }
        QuantizedWeight q = model.quantizedWeights().get(name);
        return q != null ? q.dequantize(DType.F32) : Ops.cast(model.denseWeights().get(name), DType.F32);
    }

    /** worst[0] = max |back - merged| so far, worst[1] = max |merged|. */
    private static void track(Tensor merged, Tensor back, double[] worst) {
        try (Tensor d = Ops.sub(back, merged); Tensor ad = Ops.unary(UnaryOp.ABS, d); Tensor am = Ops.unary(UnaryOp.ABS, merged);
             Tensor fd = ad.reshape(-1); Tensor fm = am.reshape(-1);
             Tensor md = Ops.reduce(ReduceOp.MAX, fd, 0, false); Tensor mm = Ops.reduce(ReduceOp.MAX, fm, 0, false)) {
            worst[0] = Math.max(worst[0], md.getFlat(0));
            worst[1] = Math.max(worst[1], mm.getFlat(0));
        }
    }

    private static String config(LlamaConfig c, DType dtype, boolean quantizeNf4) {
        String torchDtype = switch (dtype) {
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            default -> "float32";
        };
        String json = HfConfigWriter.json(c, torchDtype);
        if (!quantizeNf4) {
            return json;
        }
        // The quantization_config transformers writes for a model loaded with BitsAndBytesConfig(load_in_4bit=True,
        // bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True), so that from_pretrained loads it as 4-bit.
        String q = """
                  "quantization_config": {
                    "_load_in_4bit": true,
                    "_load_in_8bit": false,
                    "bnb_4bit_compute_dtype": "%s",
                    "bnb_4bit_quant_storage": "uint8",
                    "bnb_4bit_quant_type": "nf4",
                    "bnb_4bit_use_double_quant": true,
                    "llm_int8_enable_fp32_cpu_offload": false,
                    "llm_int8_has_fp16_weight": false,
                    "llm_int8_skip_modules": null,
                    "llm_int8_threshold": 6.0,
                    "load_in_4bit": true,
                    "load_in_8bit": false,
                    "quant_method": "bitsandbytes"
                  }""".formatted(torchDtype);
        return json.substring(0, json.lastIndexOf('}')).stripTrailing() + ",\n" + q + "\n}\n";
    }

    private static String indexJson(long total, Map<String, String> weightMap) {
        StringBuilder sb = new StringBuilder("{\n  \"metadata\": {\n    \"total_size\": " + total + "\n  },\n  \"weight_map\": {\n");
        int i = 0;
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
            sb.append("    ").append(dev.qlora4j.json.Json.quote(e.getKey())).append(": ")
                    .append(dev.qlora4j.json.Json.quote(e.getValue())).append(++i < weightMap.size() ? ",\n" : "\n");
        }
        return sb.append("  }\n}\n").toString();
    }
}
